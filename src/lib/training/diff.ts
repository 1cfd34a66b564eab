// How runs differ: the hyperparameters that set each run apart from the others
// (the chart legend), and a run's changes from the one before it (params and code).

import { paramValue } from './format.ts';

type Params = Readonly<Record<string, number | string | boolean>>;

/** A hyperparameter's value in words: numbers as people write them, — when absent. */
function show(v: number | string | boolean | undefined): string {
	if (v === undefined) return '—';
	return typeof v === 'number' ? paramValue(v) : String(v);
}

/** For each run, the `key=value` pairs where it differs from at least one other run. */
export function distinguishingParams(
	runs: ReadonlyArray<{ id: string; params: Params }>
): Map<string, string[]> {
	const keys = new Set(runs.flatMap((r) => Object.keys(r.params)));
	const varying = [...keys]
		.filter((k) => new Set(runs.map((r) => JSON.stringify(r.params[k]))).size > 1)
		.sort();
	return new Map(runs.map((r) => [r.id, varying.map((k) => `${k}=${show(r.params[k])}`)]));
}

export interface ParamChange {
	readonly key: string;
	readonly before: string;
	readonly after: string;
}

export function paramChanges(before: Params, after: Params): ParamChange[] {
	const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
	return keys
		.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
		.map((k) => ({ key: k, before: show(before[k]), after: show(after[k]) }));
}

export interface DiffLine {
	readonly kind: 'same' | 'added' | 'removed';
	readonly text: string;
}

/** A line diff (longest common subsequence); files are small enough for O(n·m). */
export function lineDiff(before: string, after: string): DiffLine[] {
	const a = before.split('\n');
	const b = after.split('\n');
	if (a.length * b.length > 4_000_000) {
		return [
			...a.map((text) => ({ kind: 'removed' as const, text })),
			...b.map((text) => ({ kind: 'added' as const, text }))
		];
	}
	const lcs: number[][] = Array.from({ length: a.length + 1 }, () =>
		new Array<number>(b.length + 1).fill(0)
	);
	for (let i = a.length - 1; i >= 0; i--) {
		for (let j = b.length - 1; j >= 0; j--) {
			const row = lcs[i] as number[];
			row[j] =
				a[i] === b[j]
					? (lcs[i + 1]?.[j + 1] ?? 0) + 1
					: Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
		}
	}
	const out: DiffLine[] = [];
	let i = 0;
	let j = 0;
	while (i < a.length || j < b.length) {
		if (i < a.length && j < b.length && a[i] === b[j]) {
			out.push({ kind: 'same', text: a[i] ?? '' });
			i++;
			j++;
		} else if (
			j < b.length &&
			(i >= a.length || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))
		) {
			out.push({ kind: 'added', text: b[j] ?? '' });
			j++;
		} else {
			out.push({ kind: 'removed', text: a[i] ?? '' });
			i++;
		}
	}
	return out;
}

/** Per file: changed files only, with their line diffs. */
export function codeChanges(
	before: Readonly<Record<string, string>>,
	after: Readonly<Record<string, string>>
): Array<{ file: string; lines: DiffLine[] }> {
	const files = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
	return files
		.filter((f) => before[f] !== after[f])
		.map((f) => ({ file: f, lines: lineDiff(before[f] ?? '', after[f] ?? '') }));
}

export type FoldedLine = DiffLine | { readonly kind: 'fold'; readonly count: number };

/** Unchanged runs longer than 2·context + 1 lines fold to a count, keeping `context` lines around changes. */
export function foldDiff(lines: readonly DiffLine[], context = 3): FoldedLine[] {
	const out: FoldedLine[] = [];
	let i = 0;
	while (i < lines.length) {
		if (lines[i]?.kind !== 'same') {
			out.push(lines[i] as DiffLine);
			i++;
			continue;
		}
		let j = i;
		while (j < lines.length && lines[j]?.kind === 'same') j++;
		const keepHead = i === 0 ? 0 : context;
		const keepTail = j === lines.length ? 0 : context;
		if (j - i > keepHead + keepTail + 1) {
			out.push(...lines.slice(i, i + keepHead));
			out.push({ kind: 'fold', count: j - i - keepHead - keepTail });
			out.push(...lines.slice(j - keepTail, j));
		} else out.push(...lines.slice(i, j));
		i = j;
	}
	return out;
}
