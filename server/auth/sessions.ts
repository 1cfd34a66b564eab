// Sign-in sessions: a random token in an httpOnly cookie, stored hashed with an
// expiry. Any process sharing the storage accepts any session.

import type { Clock } from '../runtime.ts';
import type { Storage, User } from '../storage/types.ts';
import type { UserId } from '../protocol/ids.ts';
import { hashToken, newToken } from './tokens.ts';

export const SESSION_COOKIE = 'ensemble_session';

/** A session's id: the stored hash of its cookie token (never the token itself). */
export function sessionIdOf(token: string): string {
	return hashToken(token);
}

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
		return (await this.lookup(token))?.user ?? null;
	}

	/**
	 * The session of a cookie token: its id (the stored hash, which WebSocket
	 * tokens carry so that signing out ends them too) and its user.
	 */
	async lookup(token: string | undefined): Promise<{ id: string; user: User } | null> {
		if (!token || token.length > 100) return null;
		const id = sessionIdOf(token);
		const user = await this.userOf(id);
		return user ? { id, user } : null;
	}

	/** The user of a live session by its id; null once it was signed out or expired. */
	async userOf(id: string): Promise<User | null> {
		const session = await this.#storage.getSession(id);
		if (!session) return null;
		if (session.expiresAt <= this.#clock.now()) {
			await this.#storage.deleteSession(id);
			return null;
		}
		return this.#storage.getUserById(session.userId);
	}

	/** Ends the session; returns its id (to close its sockets), or null for no token. */
	async destroy(token: string | undefined): Promise<string | null> {
		if (!token || token.length > 100) return null;
		const id = sessionIdOf(token);
		await this.#storage.deleteSession(id);
		return id;
	}
}
