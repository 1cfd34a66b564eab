// One loaded room's link to the other processes (BUS2, BUS3): it numbers what
// the room publishes, repeats its last number in heartbeats, notices from the
// numbers it receives that something was lost, and then re-syncs the room from
// storage. The relay owns room lifecycle; this owns the bus bookkeeping.

import type { RoomName } from '../protocol/docs.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { DocumentStore, LoadedDoc } from '../storage/types.ts';
import type { Bus } from './bus.ts';
import { BusKind, decodeBusMessage, docChannel, encodeBusMessage } from './busCodec.ts';
import type { MutableStats } from './stats.ts';

/**
 * An origin not heard from for this long is forgotten (BUS5): every reload of
 * the room on another process, and every crashed process, is a new origin, and
 * a long-lived room would otherwise keep them all. One that speaks again is a
 * first contact, which re-syncs from storage if its seq says it published before.
 */
export const ORIGIN_TTL_MS = 60_000;

/** What the room does with what arrives on its channel. */
export interface DocBusRoom {
	/** An update another process stored and published; false if the room lacks what it depends on. */
	applyRemote(update: Uint8Array): boolean;
	/** Stamped awareness from another process. */
	applyRemoteAwareness(update: Uint8Array): void;
	/** Brings in what storage has that the room lacks (after a gap). */
	applyStored(loaded: LoadedDoc): void;
}

export interface DocBusDeps {
	readonly bus: Bus;
	readonly store: DocumentStore;
	readonly name: RoomName;
	/** Who publishes: relay id and room load (`{relayId}/{generation}`). */
	readonly origin: string;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly stats: MutableStats;
}

export class DocBus {
	readonly deps: DocBusDeps;
	readonly #room: DocBusRoom;
	readonly #channel: string;
	#seq = 0;
	/** The seq the last heartbeat carried. */
	#heartbeatSeq = 0;
	/** Last sequence number seen per publisher (and when), to notice lost bus messages. */
	readonly #seen = new Map<string, { seq: number; at: number }>();
	#unsubscribe: () => void = () => {};
	#closed = false;

	constructor(deps: DocBusDeps, room: DocBusRoom) {
		this.deps = deps;
		this.#room = room;
		this.#channel = docChannel(deps.name);
	}

	/**
	 * Resolves once messages published on the room's channel reach the room. The
	 * room subscribes before it reads storage: anything stored after the read
	 * arrives on the bus, anything before is in what it read.
	 */
	async subscribe(): Promise<void> {
		const off = await this.deps.bus.subscribe(this.#channel, (m) => this.#onMessage(m));
		if (this.#closed) off();
		else this.#unsubscribe = off;
	}

	/** Publishes an update or awareness change of this room (numbered even if it fails). */
	publish(kind: typeof BusKind.update | typeof BusKind.awareness, payload: Uint8Array): void {
		// Numbered even if publishing fails, so that receivers notice the gap.
		const seq = ++this.#seq;
		if (!this.#othersListen()) return;
		const message = encodeBusMessage({ kind, origin: this.deps.origin, seq, payload });
		this.deps.stats.busMessagesOut++;
		this.deps.bus
			.publish(this.#channel, message)
			.catch((err: unknown) =>
				this.deps.logger.error(
					{ err: String(err), room: this.deps.name },
					'publishing to the bus failed'
				)
			);
	}

	/** A room that published since its last heartbeat repeats its last seq. */
	heartbeat(): void {
		this.#forgetSilentOrigins();
		if (this.#seq === this.#heartbeatSeq) return;
		this.#heartbeatSeq = this.#seq;
		if (!this.#othersListen()) return;
		const message = encodeBusMessage({
			kind: BusKind.heartbeat,
			origin: this.deps.origin,
			seq: this.#seq,
			payload: new Uint8Array(0)
		});
		this.deps.bus.publish(this.#channel, message).catch((err: unknown) => {
			// Sent again at the next tick: without it, numbers lost while the bus was
			// down would never be noticed by the others once this room goes quiet.
			this.#heartbeatSeq = 0;
			this.deps.logger.warn({ err: String(err), room: this.deps.name }, 'bus heartbeat failed');
		});
	}

	/** Applies what storage has that the room lacks; relays it to local clients. */
	async resync(): Promise<void> {
		if (this.#closed) return;
		this.deps.stats.resyncs++;
		try {
			const stored = await this.deps.store.loadDoc(this.deps.name);
			if (!this.#closed) this.#room.applyStored(stored);
		} catch (err) {
			this.deps.logger.error(
				{ err: String(err), room: this.deps.name },
				're-sync from storage failed'
			);
		}
	}

	/** Publishers this room remembers (BUS5). */
	get origins(): number {
		return this.#seen.size;
	}

	#forgetSilentOrigins(): void {
		const before = this.deps.clock.now() - ORIGIN_TTL_MS;
		for (const [origin, { at }] of this.#seen) if (at < before) this.#seen.delete(origin);
	}

	close(): void {
		this.#closed = true;
		this.#unsubscribe();
	}

	/**
	 * Whether anyone but this room's own subscription would receive a message on
	 * its channel. A single process on an in-memory bus hears only itself: its
	 * updates and presence are then not copied, queued and decoded only to be
	 * dropped by origin. Unknown (Redis) counts as yes.
	 */
	#othersListen(): boolean {
		const n = this.deps.bus.listeners?.(this.#channel);
		return n === undefined || n > 1;
	}

	#onMessage(bytes: Uint8Array): void {
		let m;
		try {
			m = decodeBusMessage(bytes);
		} catch (err) {
			this.deps.logger.error({ err: String(err) }, 'malformed message on the bus');
			return;
		}
		if (m.origin === this.deps.origin || this.#closed) return;
		this.deps.stats.busMessagesIn++;
		const last = this.#seen.get(m.origin)?.seq;
		const at = this.deps.clock.now();
		if (m.kind === BusKind.heartbeat) {
			// A first message from an origin cannot tell whether what it published
			// before came before this room loaded or was lost on the bus: one read
			// of storage per origin settles it.
			if (m.seq > (last ?? 0)) void this.resync();
			this.#seen.set(m.origin, { seq: Math.max(last ?? 0, m.seq), at });
			return;
		}
		this.#seen.set(m.origin, { seq: m.seq, at });
		const gap = m.seq !== (last ?? 0) + 1;
		// An update that depends on what was missed is dropped, not held (PENDING2).
		const whole = m.kind === BusKind.update ? this.#room.applyRemote(m.payload) : true;
		if (m.kind === BusKind.awareness) this.#room.applyRemoteAwareness(m.payload);
		if (gap || !whole) void this.resync();
	}
}
