// "Everything applied to this document so far is stored": a barrier built on the
// relay's own protocol. The relay answers a sync step 1 only with durable state
// (relay SPEC RELAY3), so a read-only in-process connection that sends one and
// waits for the answer learns when what others wrote is stored. Compat waits on
// it before telling JSON clients about edits made by Yjs clients or the server
// (COMPAT5, COMPAT8: stored before anyone hears of it).

import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import type * as Y from 'yjs';
import { MessageType } from '../protocol/messages.ts';
import type { DocKey } from '../protocol/docs.ts';
import type { UserId } from '../protocol/ids.ts';
import type { Identity, RelayApi, RelaySocket } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';

const BRIDGE: Identity = {
	id: 'seed-protocol-bridge' as UserId,
	name: 'Seed protocol bridge',
	email: '',
	color: '#6c757d',
	// Read-only: nothing it sends can change a document.
	role: 'viewer'
};

/**
 * The relay rate-limits every connection (by default 200 messages/s, burst
 * 1000): barriers stay below that, at once while there is room, spaced out when
 * Yjs edits come faster (one barrier then covers all of them).
 */
const RATE_PER_S = 100;
const BURST = 200;

type Listener = (...args: never[]) => void;

/** An in-process socket: the relay's frames come to `onFrame`, ours go to its listeners. */
class PipeSocket implements RelaySocket {
	readyState = 1;
	readonly bufferedAmount = 0;
	readonly #listeners = new Map<string, Listener[]>();
	readonly #onFrame: (frame: Uint8Array) => void;
	readonly #onClose: (code: number) => void;

	constructor(onFrame: (frame: Uint8Array) => void, onClose: (code: number) => void) {
		this.#onFrame = onFrame;
		this.#onClose = onClose;
	}

	send(data: Uint8Array, cb?: (err?: Error) => void): void {
		this.#onFrame(data);
		cb?.();
	}

	close(code = 1000): void {
		if (this.readyState !== 1) return;
		this.readyState = 3;
		for (const l of this.#listeners.get('close') ?? [])
			(l as (code: number, reason: Buffer) => void)(code, Buffer.alloc(0));
		this.#onClose(code);
	}

	on(event: string, listener: Listener): this {
		this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
		return this;
	}

	/** A frame from us to the relay. */
	deliver(frame: Uint8Array): void {
		for (const l of this.#listeners.get('message') ?? [])
			(l as (data: Buffer, isBinary: boolean) => void)(Buffer.from(frame), true);
	}
}

export class DurabilityBarrier {
	readonly #relay: RelayApi;
	readonly #key: DocKey;
	readonly #doc: Y.Doc;
	readonly #logger: Logger;
	readonly #clock: Clock;
	#socket: PipeSocket | null = null;
	#inflight: (() => void)[] | null = null;
	#next: (() => void)[] | null = null;
	#tokens = BURST;
	#lastRefill = 0;
	#timer: ReturnType<typeof setTimeout> | null = null;
	#closed = false;
	readonly #onRelayClose: (code: number) => void;

	/**
	 * `onRelayClose`: the relay closed the connection (the workspace was deleted,
	 * the document reloaded, the server is stopping): the code says which.
	 */
	constructor(
		relay: RelayApi,
		key: DocKey,
		doc: Y.Doc,
		deps: { clock: Clock; logger: Logger; onRelayClose: (code: number) => void }
	) {
		this.#relay = relay;
		this.#clock = deps.clock;
		this.#key = key;
		this.#doc = doc;
		this.#logger = deps.logger;
		this.#onRelayClose = deps.onRelayClose;
		// Connected at once, so that the relay closing the document is noticed.
		this.#connection();
	}

	/** Resolves once everything applied to the document before this call is stored. */
	wait(): Promise<void> {
		if (this.#closed) return Promise.resolve();
		return new Promise((resolve) => {
			if (this.#next) this.#next.push(resolve);
			else {
				this.#next = [resolve];
				if (!this.#inflight) this.#schedule();
			}
		});
	}

	close(): void {
		this.#closed = true;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		this.#socket?.close(1000);
		this.#socket = null;
		this.#releaseAll();
	}

	#schedule(): void {
		if (this.#timer) return;
		const now = this.#clock.now();
		this.#tokens = Math.min(BURST, this.#tokens + ((now - this.#lastRefill) * RATE_PER_S) / 1000);
		this.#lastRefill = now;
		const wait = this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / RATE_PER_S);
		if (wait <= 0) queueMicrotask(() => this.#send());
		else {
			this.#timer = setTimeout(() => {
				this.#timer = null;
				this.#send();
			}, wait);
			this.#timer.unref?.();
		}
	}

	#send(): void {
		if (this.#closed || !this.#next || this.#inflight) return;
		this.#inflight = this.#next;
		this.#next = null;
		this.#tokens -= 1;
		const e = encoding.createEncoder();
		encoding.writeVarUint(e, MessageType.sync);
		// Our state vector: the answer carries only what we lack (little or nothing).
		syncProtocol.writeSyncStep1(e, this.#doc);
		this.#connection().deliver(encoding.toUint8Array(e));
	}

	#connection(): PipeSocket {
		if (this.#socket && this.#socket.readyState === 1) return this.#socket;
		const socket = new PipeSocket(
			(frame) => this.#onFrame(frame),
			(code) => {
				if (this.#socket !== socket) return;
				this.#socket = null;
				if (this.#closed) return;
				// Closed by the relay: do not hold edits back for it; the next wait reconnects.
				this.#logger.info({ doc: this.#key.doc, code }, 'durability barrier closed by the relay');
				this.#releaseAll();
				this.#onRelayClose(code);
			}
		);
		this.#socket = socket;
		this.#relay.handleConnection(socket, this.#key, BRIDGE, { ack: false });
		return socket;
	}

	#onFrame(frame: Uint8Array): void {
		const d = decoding.createDecoder(frame);
		if (decoding.readVarUint(d) !== MessageType.sync) return;
		if (decoding.readVarUint(d) !== syncProtocol.messageYjsSyncStep2) return;
		const done = this.#inflight;
		this.#inflight = null;
		for (const resolve of done ?? []) resolve();
		if (this.#next) this.#schedule();
	}

	#releaseAll(): void {
		const waiting = [...(this.#inflight ?? []), ...(this.#next ?? [])];
		this.#inflight = null;
		this.#next = null;
		for (const resolve of waiting) resolve();
	}
}
