// The WebSockets opened in each sign-in session (with its cookie, or with a
// token issued in it), so that signing out closes them at once (4401), on every
// process: the session's end is published on the bus, and each process closes
// its own sockets of that session. The relay and compat learn of it only as a
// socket closing.

import type { Bus } from '../relay/bus.ts';
import type { Logger } from '../runtime.ts';
import { CloseCode } from '../protocol/closeCodes.ts';

export const SESSIONS_CHANNEL = 'sessions:ended';

/** What this needs of a socket (ws's WebSocket has it). */
export interface ClosableSocket {
	close(code?: number, reason?: string): void;
	once(event: 'close', listener: () => void): unknown;
}

/** Session ids are SHA-256 hex digests (sessions.ts); anything else on the channel is ignored. */
const SESSION_ID = /^[0-9a-f]{64}$/;

export class SessionSockets {
	readonly #bySession = new Map<string, Set<ClosableSocket>>();
	readonly #bus: Bus;
	readonly #logger: Logger;
	readonly #subscribed: Promise<(() => void) | null>;

	constructor(bus: Bus, logger: Logger) {
		this.#bus = bus;
		this.#logger = logger;
		this.#subscribed = bus
			.subscribe(SESSIONS_CHANNEL, (message) => this.#closeHere(new TextDecoder().decode(message)))
			.catch((err: unknown) => {
				logger.error({ err: String(err) }, 'subscribing to session ends failed');
				return null;
			});
	}

	/** Resolves once session ends published by other processes reach this one. */
	async ready(): Promise<void> {
		await this.#subscribed;
	}

	/** Remembers an accepted socket of `session` until it closes. */
	add(session: string, socket: ClosableSocket): void {
		let set = this.#bySession.get(session);
		if (!set) this.#bySession.set(session, (set = new Set()));
		set.add(socket);
		socket.once('close', () => {
			set.delete(socket);
			if (set.size === 0 && this.#bySession.get(session) === set) this.#bySession.delete(session);
		});
	}

	/** The session was signed out: its sockets close here and on every other process. */
	async end(session: string): Promise<void> {
		this.#closeHere(session);
		await this.#bus.publish(SESSIONS_CHANNEL, new TextEncoder().encode(session));
	}

	async close(): Promise<void> {
		(await this.#subscribed)?.();
	}

	#closeHere(session: string): void {
		if (!SESSION_ID.test(session)) {
			this.#logger.warn({}, 'malformed session end on the bus');
			return;
		}
		const sockets = this.#bySession.get(session);
		if (!sockets) return;
		this.#bySession.delete(session);
		for (const socket of sockets) socket.close(CloseCode.unauthenticated, 'signed out');
	}
}
