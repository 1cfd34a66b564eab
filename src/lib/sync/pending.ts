// Counts local changes the server has not yet confirmed as durably stored.
// A change is confirmed by a `saved` message (100) whose state vector covers the
// clock our client reached with that change. Deletions do not advance a clock,
// so a change also needs a `saved` message that arrived after it was made.
// Kept in localStorage, with the changes themselves: y-indexeddb writes
// asynchronously and a tab closed right after typing can lose its last writes,
// while localStorage is written before the keystroke returns. The journal is
// replayed on load (Yjs ignores what the document already has).

import * as Y from 'yjs';
import { fromBase64, toBase64 } from 'lib0/buffer';
import { readLocal, writeLocal } from '../local.ts';

interface Entry {
	/** Yjs client id that made the change (ours now, or an earlier session's). */
	c: number;
	/** That client's clock after the change. */
	k: number;
	/** Acks received when it was recorded (0 for entries loaded from storage). */
	a: number;
	/** Number of edits merged into this entry (keystrokes close together are one edit). */
	n: number;
	/** When the last change merged into it was made (ms since epoch). */
	t?: number;
	/** The changes themselves: one merged Yjs update, base64. */
	u: string;
}

function isEntries(v: unknown): v is Entry[] {
	return (
		Array.isArray(v) &&
		v.every(
			(e: unknown) =>
				typeof e === 'object' &&
				e !== null &&
				typeof (e as Entry).c === 'number' &&
				typeof (e as Entry).k === 'number' &&
				typeof (e as Entry).n === 'number' &&
				typeof (e as Entry).u === 'string'
		)
	);
}

/** Changes less than this apart are one edit: typing a line is one change, not one per key. */
const EDIT_GAP_MS = 1500;

export class PendingChanges {
	private entries: Entry[];
	private acks = 0;
	private readonly key: string;

	constructor(key: string) {
		this.key = key;
		this.entries = (readLocal(key, isEntries) ?? []).map((e) => ({ ...e, a: 0 }));
	}

	get count(): number {
		let n = 0;
		for (const e of this.entries) n += e.n;
		return n;
	}

	record(client: number, clock: number, update: Uint8Array, now = Date.now()): void {
		const last = this.entries.at(-1);
		if (last && last.c === client && last.a === this.acks) {
			last.k = Math.max(last.k, clock);
			if (now - (last.t ?? 0) > EDIT_GAP_MS) last.n++;
			last.t = now;
			last.u = toBase64(Y.mergeUpdates([fromBase64(last.u), update]));
		} else {
			this.entries.push({ c: client, k: clock, a: this.acks, n: 1, t: now, u: toBase64(update) });
		}
		this.persist();
	}

	/** The unsaved changes, to replay into a freshly loaded document. */
	updates(): Uint8Array[] {
		return this.entries.map((e) => fromBase64(e.u));
	}

	/** The server says everything `saved` covers is durably stored. */
	ack(saved: Map<number, number>): void {
		this.acks++;
		const before = this.entries.length;
		this.entries = this.entries.filter((e) => !(this.acks > e.a && (saved.get(e.c) ?? 0) >= e.k));
		if (this.entries.length !== before) this.persist();
	}

	/** Forget everything (the local copy was discarded). */
	clear(): void {
		this.entries = [];
		this.persist();
	}

	private persist(): void {
		writeLocal(this.key, this.entries);
	}
}
