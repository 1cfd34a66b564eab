// Counts local changes the server has not yet confirmed as durably stored.
// A change is confirmed by a `saved` message (100) whose state vector covers the
// clock our client reached with that change. Deletions do not advance a clock,
// so a change also needs a `saved` message that arrived after it was made.
// Kept in localStorage so a reload while offline still knows what is unsaved.

import { readLocal, writeLocal } from '../local.ts';

interface Entry {
	/** Yjs client id that made the change (ours now, or an earlier session's). */
	c: number;
	/** That client's clock after the change. */
	k: number;
	/** Acks received when it was recorded (0 for entries loaded from storage). */
	a: number;
	/** Number of changes merged into this entry. */
	n: number;
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
				typeof (e as Entry).n === 'number'
		)
	);
}

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

	record(client: number, clock: number): void {
		const last = this.entries.at(-1);
		if (last && last.c === client && last.a === this.acks) {
			last.k = Math.max(last.k, clock);
			last.n++;
		} else {
			this.entries.push({ c: client, k: clock, a: this.acks, n: 1 });
		}
		this.persist();
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
