// Overlapping edits in one file (issue 13, CONFLICT2): when someone else edits
// lines I edited within the last few seconds (or I edit lines they just edited),
// both of us get a quiet marker on those lines naming the other person. Edits are
// kept as Yjs relative positions, so they follow the text as it changes.

import * as Y from 'yjs';

/** Edits this close in time on overlapping lines are marked. */
export const OVERLAP_WINDOW_MS = 5_000;
/** A marker stays this long after the last overlapping edit. */
export const MARKER_MS = 30_000;

interface Edit {
	readonly client: number;
	readonly at: number;
	readonly from: Y.RelativePosition;
	readonly to: Y.RelativePosition;
}

export interface Overlap {
	/** Yjs client id of the other person. */
	readonly client: number;
	/** 1-based lines, inclusive, as the text is now. */
	readonly fromLine: number;
	readonly toLine: number;
	readonly at: number;
}

function lineAt(text: string, index: number): number {
	let line = 1;
	for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
	return line;
}

/** The range [from, to] of a transaction's change, as indexes in the new text. */
function changedRange(event: Y.YTextEvent): [number, number] | null {
	let index = 0;
	let from = Infinity;
	let to = -1;
	for (const op of event.delta) {
		if (op.retain) index += op.retain;
		else if (op.insert !== undefined) {
			const len = typeof op.insert === 'string' ? op.insert.length : 1;
			from = Math.min(from, index);
			to = Math.max(to, index + len);
			index += len;
		} else if (op.delete) {
			from = Math.min(from, index);
			to = Math.max(to, index);
		}
	}
	return to < 0 ? null : [from, to];
}

/**
 * Who made a remote change: a client whose clock the transaction advanced (not
 * mine). A change that only deletes advances no clock: its author is unknown.
 */
function authorOf(tr: Y.Transaction, me: number): number | null {
	for (const [client, clock] of tr.afterState)
		if (client !== me && clock > (tr.beforeState.get(client) ?? 0)) return client;
	return null;
}

export class LineOverlaps {
	private mine: Edit[] = [];
	private theirs: Edit[] = [];
	private marks: Array<{
		client: number;
		at: number;
		from: Y.RelativePosition;
		to: Y.RelativePosition;
	}> = [];

	private readonly text: Y.Text;
	private readonly onchange: () => void;
	private readonly now: () => number;

	constructor(text: Y.Text, onchange: () => void, now: () => number = Date.now) {
		this.text = text;
		this.onchange = onchange;
		this.now = now;
		text.observe(this.observer);
	}

	private lines(edit: {
		from: Y.RelativePosition;
		to: Y.RelativePosition;
	}): [number, number] | null {
		const doc = this.text.doc!;
		const a = Y.createAbsolutePositionFromRelativePosition(edit.from, doc);
		const b = Y.createAbsolutePositionFromRelativePosition(edit.to, doc);
		if (!a || !b) return null;
		const s = this.text.toJSON();
		return [lineAt(s, a.index), lineAt(s, b.index)];
	}

	private readonly observer = (event: Y.YTextEvent, tr: Y.Transaction): void => {
		const range = changedRange(event);
		if (!range) return;
		const doc = this.text.doc!;
		const at = this.now();
		const client = tr.local ? doc.clientID : authorOf(tr, doc.clientID);
		if (client === null) return;
		const edit: Edit = {
			client,
			at,
			from: Y.createRelativePositionFromTypeIndex(this.text, range[0]),
			// Assoc -1: the end sticks to the text before it.
			to: Y.createRelativePositionFromTypeIndex(this.text, range[1], -1)
		};
		const recent = (e: Edit) => at - e.at <= OVERLAP_WINDOW_MS;
		this.mine = this.mine.filter(recent);
		this.theirs = this.theirs.filter(recent);
		const others = tr.local ? this.theirs : this.mine;
		(tr.local ? this.mine : this.theirs).push(edit);
		const lines = this.lines(edit);
		if (!lines) return;
		let marked = false;
		for (const other of others) {
			const o = this.lines(other);
			if (!o || o[1] < lines[0] || lines[1] < o[0]) continue;
			const them = tr.local ? other.client : client;
			const from = o[0] < lines[0] ? other.from : edit.from;
			const to = o[1] > lines[1] ? other.to : edit.to;
			this.marks = this.marks.filter((m) => m.client !== them || !this.overlapsMark(m, lines, o));
			this.marks.push({ client: them, at, from, to });
			marked = true;
		}
		if (marked) this.onchange();
	};

	private overlapsMark(
		m: { from: Y.RelativePosition; to: Y.RelativePosition },
		a: [number, number],
		b: [number, number]
	): boolean {
		const l = this.lines(m);
		return !!l && l[0] <= Math.max(a[1], b[1]) && Math.min(a[0], b[0]) <= l[1];
	}

	/** The markers to show now (older ones are dropped). */
	overlaps(): Overlap[] {
		const now = this.now();
		this.marks = this.marks.filter((m) => now - m.at < MARKER_MS);
		const out: Overlap[] = [];
		for (const m of this.marks) {
			const l = this.lines(m);
			if (l) out.push({ client: m.client, fromLine: l[0], toLine: l[1], at: m.at });
		}
		return out;
	}

	destroy(): void {
		this.text.unobserve(this.observer);
	}
}

/** Monaco decorations (plain data) for the markers: the lines, and the other's name after them. */
export function overlapDecorations(
	overlaps: readonly Overlap[],
	nameOf: (client: number) => string,
	maxColumn: (line: number) => number
) {
	return overlaps.map((o) => {
		const note = `${nameOf(o.client)} edited these lines too`;
		return {
			range: {
				startLineNumber: o.fromLine,
				startColumn: 1,
				endLineNumber: o.toLine,
				endColumn: maxColumn(o.toLine)
			},
			options: {
				isWholeLine: true,
				className: 'ens-overlap-line',
				hoverMessage: { value: note },
				after: { content: `  ${note}`, inlineClassName: 'ens-overlap-note' }
			}
		};
	});
}
