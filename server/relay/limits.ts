// Limits and tunables of the relay, with their defaults (LIMIT1…LIMIT5 in SPEC.md).

export interface RelayLimits {
	/** Largest accepted message in bytes; larger closes the socket with 1009. */
	readonly maxMessageBytes: number;
	/** Token bucket per connection: refill per second and capacity; empty closes with 4429. */
	readonly messagesPerSecond: number;
	readonly messageBurst: number;
	/** Largest awareness update accepted from a client (states are small); larger closes with 1009. */
	readonly maxAwarenessBytes: number;
	/** A room refuses client updates (closing with 1013) while this many wait to be stored. */
	readonly maxUnstoredUpdates: number;
	/**
	 * Bytes of updates waiting to be stored, over all rooms of the process; an
	 * update that would go past it closes its sender with 1013 (MAX_UNSTORED_BYTES).
	 */
	readonly maxUnstoredBytes: number;
	/** Bytes of messages held per connection while its document loads; more closes with 1013. */
	readonly maxLoadingBytes: number;
	/** Clients of a room waiting for a sync reply while storage is behind; more close with 1013. */
	readonly maxSyncWaiters: number;
	/** A store write unanswered this long counts as failing: clients are told, /readyz is 503. */
	readonly storeStallMs: number;
	/** A socket whose unsent output exceeds this is closed with 1013 (slow consumer). */
	readonly maxBufferedBytes: number;
	/** Awareness changes of a room are merged and sent once per this many ms. */
	readonly awarenessTickMs: number;
	/** Bare awareness renewals (unchanged states) are merged and sent once per this many ms. */
	readonly awarenessRenewalMs: number;
	/** Compact a loaded document once this many updates were appended since its snapshot. */
	readonly compactAfterUpdates: number;
	/** After publishing on the bus, a room repeats its last seq this often (BUS2). */
	readonly busHeartbeatMs: number;
	/** First retry delay after a failed store write (doubles up to 5 s). */
	readonly storeRetryMs: number;
}

export const DEFAULT_LIMITS: RelayLimits = {
	maxMessageBytes: 10 * 1024 * 1024,
	maxAwarenessBytes: 64 * 1024,
	maxUnstoredUpdates: 10_000,
	messagesPerSecond: 200,
	messageBurst: 1000,
	maxBufferedBytes: 16 * 1024 * 1024,
	maxUnstoredBytes: 64 * 1024 * 1024,
	maxLoadingBytes: 16 * 1024 * 1024,
	maxSyncWaiters: 1000,
	storeStallMs: 1000,
	awarenessTickMs: 20,
	awarenessRenewalMs: 2000,
	compactAfterUpdates: 1000,
	busHeartbeatMs: 1000,
	storeRetryMs: 100
};

/** A token bucket on the injected clock. */
export class TokenBucket {
	#tokens: number;
	#last: number;
	readonly #rate: number;
	readonly #burst: number;

	constructor(rate: number, burst: number, now: number) {
		this.#rate = rate;
		this.#burst = burst;
		this.#tokens = burst;
		this.#last = now;
	}

	/** Takes `cost` tokens if there are that many (the chat API spends bytes). */
	take(now: number, cost = 1): boolean {
		this.#refill(now);
		if (this.#tokens < cost) return false;
		this.#tokens -= cost;
		return true;
	}

	/** Milliseconds until `cost` tokens are there (0 when they are now). */
	waitMs(now: number, cost = 1): number {
		this.#refill(now);
		return this.#tokens >= cost ? 0 : ((cost - this.#tokens) * 1000) / this.#rate;
	}

	#refill(now: number): void {
		const elapsed = Math.max(0, now - this.#last);
		this.#last = now;
		this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#rate) / 1000);
	}
}
