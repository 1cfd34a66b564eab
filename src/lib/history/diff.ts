// A line diff of a file then and now (the History view), and the files' texts.

import * as Y from 'yjs';

export function textsOf(files: Y.Map<Y.Text>): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [name, text] of files.entries()) if (text instanceof Y.Text) out[name] = text.toJSON();
	return out;
}

export interface DiffLine {
	op: 'same' | 'add' | 'del';
	text: string;
}

/** Lines of `before` and `after`, with what `after` removed and added (LCS; plain lists past 4,000,000 cells). */
export function lineDiff(before: string, after: string): DiffLine[] {
	const a = before.split('\n');
	const b = after.split('\n');
	let start = 0;
	while (start < a.length && start < b.length && a[start] === b[start]) start++;
	let ea = a.length;
	let eb = b.length;
	while (ea > start && eb > start && a[ea - 1] === b[eb - 1]) {
		ea--;
		eb--;
	}
	const head = a.slice(0, start).map((text) => ({ op: 'same' as const, text }));
	const tail = a.slice(ea).map((text) => ({ op: 'same' as const, text }));
	const x = a.slice(start, ea);
	const y = b.slice(start, eb);
	let middle: DiffLine[];
	if (x.length * y.length > 4_000_000) {
		middle = [
			...x.map((text) => ({ op: 'del' as const, text })),
			...y.map((text) => ({ op: 'add' as const, text }))
		];
	} else {
		const n = x.length;
		const m = y.length;
		const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
		for (let i = n - 1; i >= 0; i--)
			for (let j = m - 1; j >= 0; j--)
				lcs[i]![j] =
					x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
		middle = [];
		let i = 0;
		let j = 0;
		while (i < n || j < m) {
			if (i < n && j < m && x[i] === y[j]) {
				middle.push({ op: 'same', text: x[i]! });
				i++;
				j++;
			} else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
				middle.push({ op: 'add', text: y[j]! });
				j++;
			} else {
				middle.push({ op: 'del', text: x[i]! });
				i++;
			}
		}
	}
	return [...head, ...middle, ...tail];
}
