// Short-lived signed tokens for `?token=` on the WebSocket upgrade (scripts and
// clients that cannot send the cookie). HS256 only, with audience, issuer and
// expiry checked; bound to one user, one workspace and the sign-in session it
// was issued in (`sid`), so that signing out ends it at once (the upgrade checks
// that the session still exists). The key is derived from SECRET, so every
// process sharing SECRET accepts every token.

import { createHmac } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Clock } from '../runtime.ts';
import { parseUserId, type UserId, type WorkspaceId } from '../protocol/ids.ts';

const AUDIENCE = 'ensemble:relay';
export const WS_TOKEN_TTL_MS = 5 * 60 * 1000;
/** Verified tokens remembered at most (the oldest is forgotten first). */
const MAX_REMEMBERED = 10_000;

interface Verified {
	readonly user: UserId;
	readonly session: string;
	readonly workspace: string;
	/** The token's `exp`, in ms: it is valid while the clock is before it. */
	readonly expiresAt: number;
}

export interface WsTokensOptions {
	readonly secret: string;
	readonly clock: Clock;
	/** PUBLIC_URL when set, so tokens of one deployment are not accepted by another. */
	readonly publicUrl: string | null;
	readonly ttlMs?: number;
}

export class WsTokens {
	readonly #key: Uint8Array;
	readonly #issuer: string;
	readonly #clock: Clock;
	readonly #ttlMs: number;
	/**
	 * Tokens whose signature and claims were checked, until they expire: a client
	 * reconnects with the same token, and every document it opens is its own
	 * connection, so each token is verified once, not once per socket.
	 */
	readonly #verified = new Map<string, Verified>();

	constructor(options: WsTokensOptions) {
		// A derived key: SECRET itself never signs anything, so other uses of it stay independent.
		this.#key = createHmac('sha256', options.secret).update('ensemble/ws-token/v1').digest();
		this.#issuer = options.publicUrl ? `ensemble@${options.publicUrl}` : 'ensemble';
		this.#clock = options.clock;
		this.#ttlMs = options.ttlMs ?? WS_TOKEN_TTL_MS;
	}

	async issue(
		user: UserId,
		workspace: WorkspaceId,
		session: string
	): Promise<{ token: string; expiresAt: number }> {
		const now = this.#clock.now();
		const expiresAt = now + this.#ttlMs;
		const token = await new SignJWT({ ws: workspace, sid: session })
			.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
			.setSubject(user)
			.setAudience(AUDIENCE)
			.setIssuer(this.#issuer)
			.setIssuedAt(Math.floor(now / 1000))
			.setExpirationTime(Math.floor(expiresAt / 1000))
			.sign(this.#key);
		return { token, expiresAt };
	}

	/**
	 * The user the token was issued to and its session, or null if it is invalid,
	 * expired or for another workspace. Whether the session is still alive is the
	 * caller's to check (it needs storage).
	 */
	async verify(
		token: string,
		workspace: WorkspaceId
	): Promise<{ user: UserId; session: string } | null> {
		if (token.length > 2048) return null;
		const now = this.#clock.now();
		const known = this.#verified.get(token);
		if (known) {
			if (known.expiresAt <= now) {
				this.#verified.delete(token);
				return null;
			}
			return known.workspace === workspace ? { user: known.user, session: known.session } : null;
		}
		try {
			const { payload } = await jwtVerify(token, this.#key, {
				algorithms: ['HS256'],
				audience: AUDIENCE,
				issuer: this.#issuer,
				currentDate: new Date(now),
				requiredClaims: ['exp', 'sub', 'iat']
			});
			const { ws, sid, sub, exp } = payload;
			if (typeof ws !== 'string' || typeof sub !== 'string' || typeof sid !== 'string') return null;
			const user = parseUserId(sub);
			if (!user || typeof exp !== 'number') return null;
			this.#remember(token, { user, session: sid, workspace: ws, expiresAt: exp * 1000 });
			return ws === workspace ? { user, session: sid } : null;
		} catch {
			// Every failure (bad signature, expired, wrong audience, malformed) means the same here: not authenticated.
			return null;
		}
	}

	#remember(token: string, verified: Verified): void {
		if (this.#verified.size >= MAX_REMEMBERED) {
			const oldest = this.#verified.keys().next();
			if (!oldest.done) this.#verified.delete(oldest.value);
		}
		this.#verified.set(token, verified);
	}
}
