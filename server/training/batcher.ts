// Coalesces many small items into at most one write per interval, so a fast run
// (or a chatty script) costs the relay a handful of updates per second, not one
// per batch. Writes run one after another, in order; a failed write is logged and
// counted, and the items after it are still written.

import type { Logger } from '../runtime.ts';

export class Batcher<T> {
	readonly #write: (items: T[]) => Promise<void>;
	readonly #intervalMs: number;
	readonly #logger: Logger;
	#pending: T[] = [];
	#timer: ReturnType<typeof setTimeout> | null = null;
	#chain: Promise<void> = Promise.resolve();
	#failures = 0;

	constructor(write: (items: T[]) => Promise<void>, intervalMs: number, logger: Logger) {
		this.#write = write;
		this.#intervalMs = intervalMs;
		this.#logger = logger;
	}

	get failures(): number {
		return this.#failures;
	}

	push(...items: T[]): void {
		this.#pending.push(...items);
		this.#timer ??= setTimeout(() => {
			this.#timer = null;
			void this.flush();
		}, this.#intervalMs);
	}

	/** Writes whatever is pending now; resolves when everything pushed so far is written. */
	flush(): Promise<void> {
		if (this.#timer) {
			clearTimeout(this.#timer);
			this.#timer = null;
		}
		const items = this.#pending;
		this.#pending = [];
		if (items.length > 0) {
			this.#chain = this.#chain.then(() =>
				this.#write(items).catch((err: unknown) => {
					this.#failures++;
					this.#logger.error({ err, items: items.length }, 'training write failed');
				})
			);
		}
		return this.#chain;
	}
}

/**
 * A run's progress writer: buffered points for `run/{id}` and the latest summary
 * for `live`, flushed together in one tick so that storage commits both in one
 * group commit (one fsync per interval, not two).
 */
export class ProgressWriter<P, S> {
	readonly #batcher: Batcher<P>;
	#summary: S | null = null;

	constructor(
		writePoints: (points: P[]) => Promise<void>,
		writeSummary: (summary: S) => Promise<void>,
		intervalMs: number,
		logger: Logger
	) {
		this.#batcher = new Batcher<P>(
			(points) => {
				const summary = this.#summary;
				this.#summary = null;
				// Both writes start in this tick; the relay stores them in one commit.
				return Promise.all([writePoints(points), summary ? writeSummary(summary) : null]).then(
					() => undefined
				);
			},
			intervalMs,
			logger
		);
	}

	get failures(): number {
		return this.#batcher.failures;
	}

	push(points: P[], summary: S | null): void {
		if (summary) this.#summary = summary;
		this.#batcher.push(...points);
	}

	flush(): Promise<void> {
		return this.#batcher.flush();
	}
}
