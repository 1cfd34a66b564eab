// Failed sign-ins are limited (fixed windows) per (account, address) pair, per
// address, and per account over all addresses:
// - the pair limit (5) stops guessing one password from one place, without
//   letting that place lock the owner out elsewhere;
// - the address limit (20) stops spraying many accounts from one place;
// - the account limit (100) bounds distributed guessing of one password from
//   many places, and spares addresses that signed in to the account before
//   (remembered 30 days), so such an attack cannot lock out its owner at home.
// Counters live in this process: with several processes the limit is per
// process, which still bounds guessing.

import type { Clock } from '../runtime.ts';

interface Window {
	count: number;
	resetAt: number;
}

export interface SignInLimits {
	/** Failures of one account from one address. */
	readonly maxPerPair: number;
	/** Failures of one account from every address not known to it. */
	readonly maxPerAccount: number;
	/** Failures from one address over every account. */
	readonly maxPerAddress: number;
	readonly windowMs: number;
}

const MAX_TRACKED = 100_000;
/** How long an address that signed in to an account stays known to it. */
const KNOWN_MS = 30 * 24 * 60 * 60 * 1000;

/** One key for a pair; the separator cannot occur in an e-mail address's domain or an IP. */
function pairKey(account: string, address: string): string {
	return `${account.toLowerCase()}\n${address}`;
}

export class SignInLimiter {
	readonly #pairs = new Map<string, Window>();
	readonly #accounts = new Map<string, Window>();
	readonly #addresses = new Map<string, Window>();
	/** Pairs that signed in successfully; `resetAt` is when that is forgotten. */
	readonly #known = new Map<string, Window>();
	readonly #clock: Clock;
	readonly #limits: SignInLimits;

	constructor(clock: Clock, limits: SignInLimits) {
		this.#clock = clock;
		this.#limits = limits;
	}

	/** Milliseconds until another attempt is allowed, or 0 when it is allowed now. */
	retryAfter(account: string, address: string): number {
		const now = this.#clock.now();
		const pair = pairKey(account, address);
		const known = (this.#known.get(pair)?.resetAt ?? 0) > now;
		return Math.max(
			this.#blocked(this.#pairs, pair, this.#limits.maxPerPair, now),
			this.#blocked(this.#addresses, address, this.#limits.maxPerAddress, now),
			known
				? 0
				: this.#blocked(this.#accounts, account.toLowerCase(), this.#limits.maxPerAccount, now)
		);
	}

	failed(account: string, address: string): void {
		const now = this.#clock.now();
		this.#bump(this.#pairs, pairKey(account, address), now);
		this.#bump(this.#accounts, account.toLowerCase(), now);
		this.#bump(this.#addresses, address, now);
	}

	/** A correct password clears the pair's count and makes the address known to the account. */
	succeeded(account: string, address: string): void {
		const pair = pairKey(account, address);
		this.#pairs.delete(pair);
		const now = this.#clock.now();
		if (this.#known.size >= MAX_TRACKED) this.#prune(this.#known, now);
		this.#known.delete(pair);
		this.#known.set(pair, { count: 0, resetAt: now + KNOWN_MS });
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
