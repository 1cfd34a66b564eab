// Failed sign-ins are limited per account and per address (fixed windows), so
// guessing one account's password and spraying many accounts from one address
// both stop. Counters live in this process: with several processes the limit is
// per process, which still bounds guessing.

import type { Clock } from '../runtime.ts';

interface Window {
	count: number;
	resetAt: number;
}

export interface SignInLimits {
	readonly maxPerAccount: number;
	readonly maxPerAddress: number;
	readonly windowMs: number;
}

const MAX_TRACKED = 100_000;

export class SignInLimiter {
	readonly #accounts = new Map<string, Window>();
	readonly #addresses = new Map<string, Window>();
	readonly #clock: Clock;
	readonly #limits: SignInLimits;

	constructor(clock: Clock, limits: SignInLimits) {
		this.#clock = clock;
		this.#limits = limits;
	}

	/** Milliseconds until another attempt is allowed, or 0 when it is allowed now. */
	retryAfter(account: string, address: string): number {
		const now = this.#clock.now();
		return Math.max(
			this.#blocked(this.#accounts, account.toLowerCase(), this.#limits.maxPerAccount, now),
			this.#blocked(this.#addresses, address, this.#limits.maxPerAddress, now)
		);
	}

	failed(account: string, address: string): void {
		const now = this.#clock.now();
		this.#bump(this.#accounts, account.toLowerCase(), now);
		this.#bump(this.#addresses, address, now);
	}

	/** A correct password clears the account's count (not the address's). */
	succeeded(account: string): void {
		this.#accounts.delete(account.toLowerCase());
	}

	#blocked(map: Map<string, Window>, key: string, max: number, now: number): number {
		const window = map.get(key);
		if (!window || window.resetAt <= now) return 0;
		return window.count >= max ? window.resetAt - now : 0;
	}

	#bump(map: Map<string, Window>, key: string, now: number): void {
		const window = map.get(key);
		if (window && window.resetAt > now) {
			window.count += 1;
			return;
		}
		if (map.size >= MAX_TRACKED) this.#prune(map, now);
		map.set(key, { count: 1, resetAt: now + this.#limits.windowMs });
	}

	#prune(map: Map<string, Window>, now: number): void {
		for (const [key, window] of map) if (window.resetAt <= now) map.delete(key);
		// Still full of live windows: drop the oldest entries rather than grow without bound.
		for (const key of map.keys()) {
			if (map.size < MAX_TRACKED) break;
			map.delete(key);
		}
	}
}
