// One JSON-protocol socket: size and rate limits, parsing, error replies, and the
// abuse rule (too many errors in a window closes with 4429) (COMPAT10, COMPAT11).

import type { View } from '../protocol/docs.ts';
import { CloseCode } from '../protocol/closeCodes.ts';
import type { Identity, MinimalSocket } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';
import { parseClientMessage, type ClientMessage, type ErrorCode } from './messages.ts';
import type { JsonValue } from './state.ts';

/** The socket shape compat needs; `ws`'s WebSocket has it (STYLE.md 4). */
/** The seed's protocol sends JSON text. */
export type JsonSocket = MinimalSocket<string>;

export interface CompatLimits {
	/** Largest accepted message in bytes; larger closes with 1009. */
	readonly maxMessageBytes: number;
	/** Token bucket per connection; empty closes with 4429. */
	readonly messagesPerSecond: number;
	readonly messageBurst: number;
	/** More errors than this within `errorWindowMs` closes with 4429. */
	readonly maxErrors: number;
	readonly errorWindowMs: number;
	/** Unsent output beyond this closes with 1013 (a client that does not read). */
	readonly maxBufferedBytes: number;
	/** Largest JSON value a state_update may write, in bytes. */
	readonly maxValueBytes: number;
	/** Edits kept per file for transforming late edits. */
	readonly revisionsKept: number;
	/** How often JSON clients' awareness states are renewed (Awareness drops them after 30 s). */
	readonly presenceRenewMs: number;
}

export const DEFAULT_COMPAT_LIMITS: CompatLimits = {
	maxMessageBytes: 1024 * 1024,
	messagesPerSecond: 2000,
	messageBurst: 4000,
	maxErrors: 20,
	errorWindowMs: 10_000,
	maxBufferedBytes: 16 * 1024 * 1024,
	maxValueBytes: 64 * 1024,
	revisionsKept: 10_000,
	presenceRenewMs: 15_000
};

const OPEN = 1;
const MAX_QUEUED = 1000;

export interface ConnectionDeps {
	readonly limits: CompatLimits;
	readonly clock: Clock;
	readonly logger: Logger;
}

export class JsonConnection {
	readonly socket: JsonSocket;
	/** Unique per process, above the 32-bit range of Yjs client ids (tie-breaks, awareness). */
	readonly clientId: number;
	identity: Identity;
	/** The role asked for with `user_role`, which caps the authenticated one. */
	readonly requestedRole: Identity['role'] | null;
	currentView: View = 'dashboard';
	cursor: JsonValue = null;
	awarenessClock = 0;
	/** ms since the epoch of the last message (for the seed's `last_active`). */
	lastActive: number;
	closed = false;

	#handler: ((message: ClientMessage) => void) | null = null;
	readonly #queue: ClientMessage[] = [];
	readonly #errors: number[] = [];
	readonly #closeListeners: (() => void)[] = [];
	#tokens: number;
	#lastRefill: number;
	readonly #deps: ConnectionDeps;

	constructor(
		socket: JsonSocket,
		identity: Identity,
		requestedRole: Identity['role'] | null,
		clientId: number,
		deps: ConnectionDeps
	) {
		this.socket = socket;
		this.identity = identity;
		this.requestedRole = requestedRole;
		this.clientId = clientId;
		this.#deps = deps;
		this.#tokens = deps.limits.messageBurst;
		this.#lastRefill = deps.clock.now();
		this.lastActive = this.#lastRefill;
		socket.on('message', (data, isBinary) =>
			this.guard('message', () => this.#receive(data, isBinary))
		);
		socket.on('close', () => this.guard('close', () => this.#onClosed()));
		socket.on('error', (err) =>
			deps.logger.debug({ err: err.message, user: identity.id }, 'compat socket error')
		);
	}

	/** Messages are held until the workspace is loaded, then handed over in order. */
	attach(handler: (message: ClientMessage) => void): void {
		this.#handler = handler;
		for (const m of this.#queue.splice(0)) {
			if (this.closed) return;
			handler(m);
		}
	}

	onClose(listener: () => void): void {
		if (this.closed) listener();
		else this.#closeListeners.push(listener);
	}

	send(message: object): void {
		if (this.closed || this.socket.readyState !== OPEN) return;
		if (this.socket.bufferedAmount > this.#deps.limits.maxBufferedBytes) {
			this.close(CloseCode.tryAgainLater, 'not reading fast enough');
			return;
		}
		this.socket.send(JSON.stringify(message), (err) => {
			if (err) this.#deps.logger.debug({ err: err.message }, 'compat send failed');
		});
	}

	/** Tells the client what was wrong; nothing of the message was applied. */
	error(code: ErrorCode, message: string): void {
		this.send({ type: 'error', code, message });
		const now = this.#deps.clock.now();
		this.#errors.push(now);
		while ((this.#errors[0] ?? now) <= now - this.#deps.limits.errorWindowMs) this.#errors.shift();
		if (this.#errors.length > this.#deps.limits.maxErrors) {
			this.#deps.logger.info(
				{ user: this.identity.id, errors: this.#errors.length },
				'closing a compat connection that keeps sending bad messages'
			);
			this.close(CloseCode.tooFast, 'too many bad messages');
		}
	}

	close(code: number, reason: string): void {
		if (this.closed) return;
		try {
			this.socket.close(code, reason);
		} catch (err) {
			this.#deps.logger.warn({ err: String(err) }, 'closing a compat socket failed');
		}
		this.#onClosed();
	}

	/**
	 * An event handler's work: whatever a client's input makes throw is logged
	 * and confined to this connection (closed with 1011), never thrown into the
	 * event loop, where it would stop the process (LIMIT8).
	 */
	guard(what: string, work: () => void): void {
		try {
			work();
		} catch (err) {
			this.#deps.logger.error(
				{ err: err instanceof Error ? err.stack : String(err), user: this.identity.id, what },
				'a compat connection event failed'
			);
			this.close(CloseCode.internalError, 'server error');
		}
	}

	#onClosed(): void {
		if (this.closed) return;
		this.closed = true;
		this.#queue.length = 0;
		for (const l of this.#closeListeners.splice(0)) l();
	}

	#takeToken(): boolean {
		const { messagesPerSecond, messageBurst } = this.#deps.limits;
		const now = this.#deps.clock.now();
		this.#tokens = Math.min(
			messageBurst,
			this.#tokens + (Math.max(0, now - this.#lastRefill) * messagesPerSecond) / 1000
		);
		this.#lastRefill = now;
		if (this.#tokens < 1) return false;
		this.#tokens -= 1;
		return true;
	}

	#receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
		if (this.closed) return;
		this.lastActive = this.#deps.clock.now();
		if (!this.#takeToken()) {
			this.close(CloseCode.tooFast, 'too many messages');
			return;
		}
		const bytes = Array.isArray(data)
			? Buffer.concat(data)
			: data instanceof ArrayBuffer
				? Buffer.from(data)
				: data;
		if (bytes.length > this.#deps.limits.maxMessageBytes) {
			this.close(CloseCode.tooLarge, 'message too large');
			return;
		}
		if (isBinary) {
			this.error('invalid_message', 'this endpoint speaks JSON text frames, not binary');
			return;
		}
		const parsed = parseClientMessage(bytes.toString('utf8'));
		if (!parsed.ok) {
			this.error(parsed.code, parsed.message);
			return;
		}
		if (this.#handler) this.#handler(parsed.message);
		else if (this.#queue.length < MAX_QUEUED) this.#queue.push(parsed.message);
		else this.close(CloseCode.tryAgainLater, 'too many messages while loading');
	}
}
