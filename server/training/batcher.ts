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
