// One socket on one document: limits, parsing of incoming frames, and sending.
// What a message means for the document is the room's business (ConnectionHost).

import type { Clock, Logger } from '../runtime.ts';
import type { DocKey } from '../protocol/docs.ts';
import { writePermission } from '../protocol/docs.ts';
import { hasPermission } from '../protocol/roles.ts';
import { CloseCode } from '../protocol/closeCodes.ts';
import { ALIVE_WITHIN_MS, MessageType } from '../protocol/messages.ts';
import type { ConnectOptions, Identity, RelaySocket, StampedUser } from './api.ts';
import { parseAwarenessUpdate, type AwarenessEntry } from './awareness.ts';
import { SyncStep } from './frames.ts';
import { TokenBucket, type RelayLimits } from './limits.ts';
import { MalformedInput, Reader } from './reader.ts';
import { validateStateVector } from './validate.ts';

export interface ConnectionHost {
	onSyncStep1(conn: Connection, stateVector: Uint8Array): void;
	/** A sync step 2 or update from the client (already known to be from a writer). */
	onClientUpdate(conn: Connection, update: Uint8Array): void;
	/** A sync step 2 or update from a read-only client. */
	onDeniedUpdate(conn: Connection, update: Uint8Array): void;
	onAwareness(conn: Connection, entries: AwarenessEntry[]): void;
	/** Whether entries for this client ID from `conn` are dropped anyway (owned elsewhere). */
	ignoresAwareness(conn: Connection, clientID: number, clock: number): boolean;
	onQueryAwareness(conn: Connection): void;
	onClose(conn: Connection): void;
}

export interface ConnectionCounters {
	messagesSent: number;
}

const OPEN = 1;
/** Messages held while the document loads; more than this closes with 1013. */
const MAX_QUEUED = 1000;

export class Connection {
	readonly socket: RelaySocket;
	readonly key: DocKey;
	readonly options: ConnectOptions;
	identity: Identity;
	canWrite: boolean;
	/** Awareness client IDs this connection introduced. */
	readonly clientIds = new Set<number>();
	lastActive: number;
	closed = false;
	/** Whether the permission-denied message was sent since the last role change. */
	deniedSent = false;
	/** Promised by the client's last `alive` message: silence longer than this means gone (PRES7). */
	aliveWithinMs: number | null = null;

	readonly #host: { current: ConnectionHost | null } = { current: null };
	readonly #queue: Uint8Array[] = [];
	#queuedBytes = 0;
	readonly #bucket: TokenBucket;
	readonly #limits: RelayLimits;
	readonly #clock: Clock;
	readonly #logger: Logger;
	readonly #counters: ConnectionCounters;

	constructor(
		socket: RelaySocket,
		key: DocKey,
		identity: Identity,
		options: ConnectOptions,
		deps: { limits: RelayLimits; clock: Clock; logger: Logger; counters: ConnectionCounters }
	) {
		this.socket = socket;
		this.key = key;
		this.identity = identity;
		this.options = options;
		this.canWrite = mayWrite(key, identity);
		this.#limits = deps.limits;
		this.#clock = deps.clock;
		this.#logger = deps.logger;
		this.#counters = deps.counters;
		this.lastActive = deps.clock.now();
		this.#bucket = new TokenBucket(
			deps.limits.messagesPerSecond,
			deps.limits.messageBurst,
			this.lastActive
		);
		socket.on('message', (data, isBinary) =>
			this.#guard('message', () => this.#receive(data, isBinary))
		);
		socket.on('close', () => this.#guard('close', () => this.#closed()));
		socket.on('error', (err) => {
			this.#logger.warn({ err: err.message, user: identity.id }, 'socket error');
		});
	}

	get user(): StampedUser {
		const { id, name, color, role } = this.identity;
		return { id, name, color, role };
	}

	setIdentity(identity: Identity): void {
		this.identity = identity;
		this.canWrite = mayWrite(this.key, identity);
		this.deniedSent = false;
	}

	/** The room is ready: handle what arrived meanwhile, then everything as it comes. */
	attach(host: ConnectionHost): void {
		this.#host.current = host;
		this.#queuedBytes = 0;
		for (const message of this.#queue.splice(0)) {
			if (this.closed) return;
			this.#handle(message, host);
		}
	}

	send(frame: Uint8Array): void {
		if (this.closed || this.socket.readyState !== OPEN) return;
		if (this.socket.bufferedAmount > this.#limits.maxBufferedBytes) {
			this.close(CloseCode.tryAgainLater, 'too slow to keep up');
			return;
		}
		this.socket.send(frame);
		this.#counters.messagesSent++;
	}

	/**
	 * Sends several frames in one socket write where the socket allows it: with
	 * `ws`, each `send` is its own write (a writev syscall per recipient per
	 * frame), which dominates fan-out; corking the underlying TCP socket around
	 * them makes one. Frames stay separate WebSocket messages, in order.
	 */
	sendFrames(frames: readonly Uint8Array[]): void {
		if (frames.length === 0) return;
		if (frames.length === 1) {
			this.send(frames[0]!);
			return;
		}
		const tcp = (this.socket as { _socket?: unknown })._socket;
		const corkable = isCorkable(tcp) ? tcp : null;
		corkable?.cork();
		try {
			for (const frame of frames) this.send(frame);
		} finally {
			corkable?.uncork();
		}
	}

	close(code: number, reason = ''): void {
		if (this.closed) return;
		try {
			this.socket.close(code, reason);
		} catch (err) {
			this.#logger.warn({ err: String(err), code }, 'closing a socket failed');
		}
		this.#closed();
	}

	/**
	 * An event handler's work: whatever a client's input makes throw is logged
	 * and confined to this connection (closed with 1011), never thrown into the
	 * event loop, where it would stop the process (LIMIT8).
	 */
	#guard(what: string, work: () => void): void {
		try {
			work();
		} catch (err) {
			this.#logger.error(
				{ err: err instanceof Error ? err.stack : String(err), user: this.identity.id, what },
				'a connection event failed'
			);
			this.close(CloseCode.internalError, 'internal error');
		}
	}

	#closed(): void {
		if (this.closed) return;
		this.closed = true;
		this.#queue.length = 0;
		this.#host.current?.onClose(this);
	}

	#receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
		if (this.closed) return;
		if (!isBinary) {
			this.close(CloseCode.unsupportedData, 'text frames are not part of the protocol');
			return;
		}
		const bytes = toBytes(data);
		if (bytes.length > this.#limits.maxMessageBytes) {
			this.close(CloseCode.tooLarge, 'message too large');
			return;
		}
		const now = this.#clock.now();
		if (!this.#bucket.take(now)) {
			this.close(CloseCode.tooFast, 'too many messages');
			return;
		}
		this.lastActive = now;
		const host = this.#host.current;
		if (host) this.#handle(bytes, host);
		else if (
			this.#queue.length < MAX_QUEUED &&
			this.#queuedBytes + bytes.length <=
				Math.max(this.#limits.maxLoadingBytes, this.#limits.maxMessageBytes)
		) {
			this.#queue.push(bytes);
			this.#queuedBytes += bytes.length;
		} else this.close(CloseCode.tryAgainLater, 'document still loading');
	}

	#handle(bytes: Uint8Array, host: ConnectionHost): void {
		try {
			this.#dispatch(bytes, host);
		} catch (err) {
			if (err instanceof MalformedInput) {
				this.close(err.code, err.message);
				this.#logger.info(
					{ user: this.identity.id, reason: err.message, code: err.code },
					'closed a connection that sent a malformed message'
				);
			} else {
				this.#logger.error(
					{ err: err instanceof Error ? err.stack : String(err), user: this.identity.id },
					'failed to handle a message'
				);
				this.close(CloseCode.internalError, 'internal error');
			}
		}
	}

	#dispatch(bytes: Uint8Array, host: ConnectionHost): void {
		// The framing is read in one go (no closure per field: this runs for every
		// message); its errors are protocol errors (1002), not bad payloads (1007).
		let type: number;
		let step = -1;
		let payload: Uint8Array | null = null;
		let within = 0;
		try {
			const r = new Reader(bytes);
			type = r.varUint();
			if (type === MessageType.sync) {
				step = r.varUint();
				payload = r.varBytes();
			} else if (type === MessageType.awareness) {
				payload = r.varBytes();
			} else if (type === MessageType.alive) {
				within = r.varUint();
			}
			if (
				type === MessageType.sync ||
				type === MessageType.awareness ||
				type === MessageType.queryAwareness ||
				type === MessageType.alive
			)
				r.end();
		} catch (err) {
			if (err instanceof MalformedInput)
				throw new MalformedInput(err.message, CloseCode.protocolError);
			throw err;
		}
		switch (type) {
			case MessageType.sync: {
				if (!payload) throw new MalformedInput('missing payload', CloseCode.protocolError);
				if (step === SyncStep.step1) {
					validateStateVector(payload);
					host.onSyncStep1(this, payload);
				} else if (step === SyncStep.step2 || step === SyncStep.update) {
					if (this.canWrite) host.onClientUpdate(this, payload);
					else host.onDeniedUpdate(this, payload);
				} else {
					throw new MalformedInput('unknown sync step', CloseCode.protocolError);
				}
				return;
			}
			case MessageType.awareness: {
				if (!payload) throw new MalformedInput('missing payload', CloseCode.protocolError);
				if (payload.length > this.#limits.maxAwarenessBytes) {
					throw new MalformedInput('awareness state too large', CloseCode.tooLarge);
				}
				host.onAwareness(
					this,
					parseAwarenessUpdate(payload, (id, clock) => host.ignoresAwareness(this, id, clock))
				);
				return;
			}
			case MessageType.queryAwareness:
				host.onQueryAwareness(this);
				return;
			case MessageType.alive:
				this.aliveWithinMs = Math.min(ALIVE_WITHIN_MS.max, Math.max(ALIVE_WITHIN_MS.min, within));
				return;
			default:
				throw new MalformedInput('unsupported message type', CloseCode.unsupportedData);
		}
	}
}

interface Corkable {
	cork(): void;
	uncork(): void;
}

/** `ws` keeps its net.Socket in `_socket` (not public API: used only if it looks right). */
function isCorkable(value: unknown): value is Corkable {
	return (
		typeof value === 'object' &&
		value !== null &&
		typeof (value as Partial<Corkable>).cork === 'function' &&
		typeof (value as Partial<Corkable>).uncork === 'function'
	);
}

function mayWrite(key: DocKey, identity: Identity): boolean {
	const permission = writePermission(key.doc);
	return permission !== null && hasPermission(identity.role, permission);
}

function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
	if (Array.isArray(data)) return Buffer.concat(data);
	if (data instanceof ArrayBuffer) return new Uint8Array(data);
	return data;
}
