// The server's per-file history of accepted edits, kept in memory while the
// workspace is loaded: a client's edit made at revision r is transformed against
// every edit accepted after r before it is applied (COMPAT SPEC COMPAT8).

import { comesFirst, transformLists, type Operation } from './ot.ts';

/** Operation pairs one edit may cost to transform (a few hundred ms at worst). */
const MAX_TRANSFORM_WORK = 2_000_000;

export interface LogEntry {
	readonly ops: readonly Operation[];
	/** Who made it: a JSON connection's client id or a Yjs client id (tie-breaks). */
	readonly client: number;
}

export type RebaseResult =
	| { readonly ok: true; readonly ops: Operation[] }
	| {
			readonly ok: false;
			readonly code: 'stale_revision' | 'future_revision';
			readonly message: string;
	  };

export class RevisionLog {
	/** Revision of the oldest entry kept. */
	private base = 0;
	private entries: LogEntry[] = [];
	private readonly keep: number;

	/** `keep`: how many entries to keep; clients further behind must reload the file. */
	constructor(keep = 10_000) {
		this.keep = keep;
	}

	/** The number of edits accepted so far: the revision of the current text. */
	get revision(): number {
		return this.base + this.entries.length;
	}

	/** Transforms `ops`, made by `client` on the text at `revision`, to apply now. */
	rebase(ops: readonly Operation[], client: number, revision: number): RebaseResult {
		if (revision > this.revision) {
			return {
				ok: false,
				code: 'future_revision',
				message: `revision ${revision} is ahead of the server's ${this.revision}`
			};
		}
		if (revision < this.base) {
			return {
				ok: false,
				code: 'stale_revision',
				message: `revision ${revision} is older than the history kept (from ${this.base}); reload the file`
			};
		}
		// Transforming costs (ops × edits since): a client far behind with a large
		// edit would tie up the process, so it reloads the file instead.
		if (ops.length * (this.revision - revision) > MAX_TRANSFORM_WORK) {
			return {
				ok: false,
				code: 'stale_revision',
				message: `revision ${revision} is too far behind (${this.revision}) for ${ops.length} operations; reload the file`
			};
		}
		let out: Operation[] = ops.slice();
		for (let i = revision - this.base; i < this.entries.length; i++) {
			const e = this.entries[i];
			if (!e) continue;
			out = transformLists(out, e.ops, comesFirst(client, e.client))[0];
		}
		return { ok: true, ops: out };
	}

	/** Records an applied edit; returns its revision. */
	append(entry: LogEntry): number {
		this.entries.push(entry);
		if (this.entries.length > this.keep * 2) {
			const drop = this.entries.length - this.keep;
			this.entries = this.entries.slice(drop);
			this.base += drop;
		}
		return this.revision;
	}
}
