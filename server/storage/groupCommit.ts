// Group commit: every appendUpdates call made in the same tick, or while a commit
// is in flight, goes into one transaction. Each caller learns its own seqs only
// once that transaction is committed, and every caller of a failed batch is told.

import type { Logger } from '../runtime.ts';
import type { UpdateRecord } from './types.ts';

/** Commits all records in one transaction; resolves with one seq per record, in order. */
export type CommitBatch = (records: readonly UpdateRecord[]) => Promise<number[]>;

export interface CommitInfo {
	readonly updates: number;
	readonly callers: number;
	readonly ms: number;
	readonly ok: boolean;
}

interface Pending {
	readonly records: readonly UpdateRecord[];
	resolve(seqs: number[]): void;
	reject(error: Error): void;
}

/** The error every caller of a failed batch gets; `cause` is what the database said. */
export class StorageWriteError extends Error {
	constructor(message: string, options: { cause: unknown }) {
		super(message, options);
		this.name = 'StorageWriteError';
	}
}

export class GroupCommitter {
	/** Transactions committed (successfully) so far: tests assert batching with it. */
	commitCount = 0;
	/** Transactions that failed and were rolled back. */
	failedCommits = 0;

	readonly #commit: CommitBatch;
	readonly #logger: Logger;
	readonly #now: () => number;
	readonly #onCommit: ((info: CommitInfo) => void) | undefined;
	#queue: Pending[] = [];
	#scheduled = false;
	#inFlight: Promise<void> | null = null;
	#closed = false;
	#failNext: Error | null = null;

	constructor(options: {
		commit: CommitBatch;
		logger: Logger;
		/** A monotonic clock for latency (performance.now); the wall clock stays injected elsewhere. */
		now?: () => number;
		onCommit?: (info: CommitInfo) => void;
	}) {
		this.#commit = options.commit;
		this.#logger = options.logger;
		this.#now = options.now ?? (() => performance.now());
		this.#onCommit = options.onCommit;
	}

	append(records: readonly UpdateRecord[]): Promise<number[]> {
		if (this.#closed) return Promise.reject(new Error('storage is closed'));
		if (records.length === 0) return Promise.resolve([]);
		return new Promise<number[]>((resolve, reject) => {
			this.#queue.push({ records, resolve, reject });
			this.#schedule();
		});
	}

	/**
	 * Makes the next batch fail inside its transaction (after its rows are written,
	 * so the rollback is real). For the contract suite only.
	 */
	failNextCommit(error: Error): void {
		this.#failNext = error;
	}

	/** Throws the injected failure, if any; implementations call it just before COMMIT. */
	checkInjectedFailure(): void {
		const error = this.takeInjectedFailure();
		if (error) throw error;
	}

	/** The injected failure, once (for a commit that runs elsewhere, e.g. a worker thread). */
	takeInjectedFailure(): Error | null {
		const error = this.#failNext;
		this.#failNext = null;
		return error;
	}

	/** Commits everything queued and waits for it; appends after this are refused. */
	async close(): Promise<void> {
		this.#closed = true;
		await this.flush();
	}

	/** Waits until every append queued so far has been committed or has failed. */
	async flush(): Promise<void> {
		while (this.#inFlight || this.#queue.length > 0) {
			if (this.#inFlight) await this.#inFlight;
			else this.#run();
		}
	}

	#schedule(): void {
		if (this.#scheduled || this.#inFlight) return;
		this.#scheduled = true;
		// setImmediate, not a microtask: every message read from the sockets in this
		// poll phase joins the batch, which is what makes durability cheap.
		setImmediate(() => {
			this.#scheduled = false;
			if (!this.#inFlight) this.#run();
		});
	}

	#run(): void {
		const batch = this.#queue;
		if (batch.length === 0) return;
		this.#queue = [];
		this.#inFlight = this.#commitBatch(batch).finally(() => {
			this.#inFlight = null;
			if (this.#queue.length > 0) this.#schedule();
		});
	}

	async #commitBatch(batch: Pending[]): Promise<void> {
		const records: UpdateRecord[] = [];
		for (const p of batch) records.push(...p.records);
		const started = this.#now();
		let seqs: number[];
		try {
			seqs = await this.#commit(records);
			if (seqs.length !== records.length) {
				throw new Error(`commit returned ${seqs.length} seqs for ${records.length} records`);
			}
		} catch (cause) {
			this.failedCommits++;
			const rooms = [...new Set(records.map((r) => r.room))];
			this.#logger.error(
				{ err: cause, updates: records.length, callers: batch.length, rooms: rooms.slice(0, 20) },
				'storage: group commit failed; no update of this batch is stored'
			);
			this.#onCommit?.({
				updates: records.length,
				callers: batch.length,
				ms: this.#now() - started,
				ok: false
			});
			const error = new StorageWriteError(
				`could not store ${records.length} update(s): ${cause instanceof Error ? cause.message : String(cause)}`,
				{ cause }
			);
			for (const p of batch) p.reject(error);
			return;
		}
		this.commitCount++;
		this.#onCommit?.({
			updates: records.length,
			callers: batch.length,
			ms: this.#now() - started,
			ok: true
		});
		let offset = 0;
		for (const p of batch) {
			p.resolve(seqs.slice(offset, offset + p.records.length));
			offset += p.records.length;
		}
	}
}
