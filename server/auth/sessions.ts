// Sign-in sessions: a random token in an httpOnly cookie, stored hashed with an
// expiry. Any process sharing the storage accepts any session.

import type { Clock } from '../runtime.ts';
import type { Storage, User } from '../storage/types.ts';
import type { UserId } from '../protocol/ids.ts';
import { hashToken, newToken } from './tokens.ts';

export const SESSION_COOKIE = 'ensemble_session';

export interface SessionsOptions {
	readonly storage: Storage;
	readonly clock: Clock;
	readonly ttlMs: number;
}

export class Sessions {
	readonly ttlMs: number;
	readonly #storage: Storage;
	readonly #clock: Clock;

	constructor(options: SessionsOptions) {
		this.#storage = options.storage;
		this.#clock = options.clock;
		this.ttlMs = options.ttlMs;
	}

	async create(userId: UserId): Promise<{ token: string; expiresAt: number }> {
		const token = newToken();
		const expiresAt = this.#clock.now() + this.ttlMs;
		await this.#storage.createSession({ tokenHash: hashToken(token), userId, expiresAt });
		return { token, expiresAt };
	}

	/** The signed-in user, or null for an unknown, expired or malformed token. */
	async resolve(token: string | undefined): Promise<User | null> {
		if (!token || token.length > 100) return null;
		const tokenHash = hashToken(token);
		const session = await this.#storage.getSession(tokenHash);
		if (!session) return null;
		if (session.expiresAt <= this.#clock.now()) {
			await this.#storage.deleteSession(tokenHash);
			return null;
		}
		return this.#storage.getUserById(session.userId);
	}

	async destroy(token: string | undefined): Promise<void> {
		if (token && token.length <= 100) await this.#storage.deleteSession(hashToken(token));
	}
}
