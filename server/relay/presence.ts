// A room's presence: y-protocols' Awareness as the store, client IDs owned by
// the connection that introduced them, states stamped with the real identity,
// and changes merged per tick into one frame encoded once for every recipient
// (PRES1…PRES4). The stock server forwards each renewal on its own, which at
// N clients costs N² sends; here changes go out once per tick (awarenessTickMs)
// and bare renewals (same state, new clock: every client's every 15 s) once per
// renewal tick, which is still far inside the 30 s after which clients drop a
// state that was not renewed.

import type * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import { CloseCode } from '../protocol/closeCodes.ts';
import type { Logger } from '../runtime.ts';
import {
	applyAwarenessEntries,
	encodeAwarenessEntries,
	parseAwarenessUpdate,
	stamp,
	type AwarenessEntry
} from './awareness.ts';
import type { Connection } from './connection.ts';
import { awarenessFrame } from './frames.ts';

/** Renewals sent per frame when many are due at once (see #drainRenewals)… */
const RENEWALS_PER_FRAME = 32;
/** …one frame per this many ms… */
const RENEWAL_SLICE_MS = 100;
/** …and larger frames when more are due, so that any number goes out within ~5 s. */
const RENEWAL_SLICES = 50;

/** Origin of awareness changes that came from another process. */
export const REMOTE_PRESENCE = Symbol('remote presence');
type Owner = Connection | typeof REMOTE_PRESENCE;

interface AwarenessChange {
	added: number[];
	updated: number[];
	removed: number[];
}

export interface PresenceDeps {
	readonly tickMs: number;
	readonly renewalTickMs: number;
	readonly logger: Logger;
	connections(): Iterable<Connection>;
	/** Publishes stamped states of this process's clients to other processes. */
	publish(update: Uint8Array): void;
}

export class Presence {
	readonly awareness: Awareness;
	readonly #owners = new Map<number, Owner>();
	/** Changed states, sent at the next tick. */
	readonly #changed = new Dirty();
	/** Renewed states (clock only), sent at the next renewal tick. */
	readonly #renewed = new Dirty();
	/** Every present state, encoded for a new connection; null once anything changed. */
	#allFrame: Uint8Array | null = null;
	#timer: ReturnType<typeof setTimeout> | null = null;
	#renewalTimer: ReturnType<typeof setTimeout> | null = null;
	readonly #deps: PresenceDeps;

	constructor(doc: Y.Doc, deps: PresenceDeps) {
		this.#deps = deps;
		this.awareness = new Awareness(doc);
		// The server itself is not present.
		this.awareness.setLocalState(null);
		// 'update' reports every applied entry (renewals too), 'change' only real changes.
		this.awareness.on('update', (change: AwarenessChange, origin: unknown) => {
			this.#allFrame = null;
			// A state that timed out (its process died) leaves no owner behind:
			// whoever reconnects with that client ID may claim it (PRES6).
			if (origin === 'timeout') for (const id of change.removed) this.#forgetRemote(id);
			for (const ids of [change.added, change.updated, change.removed])
				this.#renewed.mark(ids, origin);
			this.#scheduleRenewals();
		});
		this.awareness.on('change', (change: AwarenessChange, origin: unknown) => {
			for (const ids of [change.added, change.updated, change.removed])
				this.#changed.mark(ids, origin);
			if (!this.#timer && this.#changed.size > 0) {
				this.#timer = setTimeout(() => this.#guard('tick', () => this.#tick()), this.#deps.tickMs);
			}
		});
	}

	/** Keeps only client IDs the connection owns (claiming new ones) and stamps them. */
	fromClient(conn: Connection, entries: readonly AwarenessEntry[]): void {
		const accepted: AwarenessEntry[] = [];
		for (const entry of entries) {
			const owner = this.#owners.get(entry.clientID);
			if (owner === undefined) {
				// Unowned but present: set by server-side code (compat) — not claimable.
				if (entry.state === null || this.awareness.states.has(entry.clientID)) continue;
				this.#claim(entry.clientID, conn);
				if (this.#nudged(conn, entry)) continue;
			} else if (owner === REMOTE_PRESENCE) {
				if (entry.state === null || !this.#mayTakeOverRemote(conn, entry.clientID)) continue;
				this.#claim(entry.clientID, conn);
				if (this.#nudged(conn, entry)) continue;
			} else if (owner !== conn) {
				if (!this.#mayTakeOver(owner, conn, entry.clientID, entry.clock)) continue;
				owner.clientIds.delete(entry.clientID);
				this.#claim(entry.clientID, conn);
			}
			accepted.push(stamp(entry, conn.user));
		}
		if (accepted.length > 0) {
			applyAwarenessEntries(this.awareness, accepted, conn);
		}
	}

	/**
	 * Whether `fromClient` would drop an entry for `clientID` from `conn`
	 * whatever it holds: owned by another connection (of another user) or by
	 * another process, or set by server-side code. Such entries (mostly echoes
	 * of what the server sent) are skipped unparsed.
	 */
	ignores(conn: Connection, clientID: number, clock: number): boolean {
		const owner = this.#owners.get(clientID);
		if (owner === undefined) return this.awareness.states.has(clientID);
		if (owner === conn) return false;
		if (owner === REMOTE_PRESENCE) return !this.#mayTakeOverRemote(conn, clientID);
		return !this.#mayTakeOver(owner, conn, clientID, clock);
	}

	/**
	 * A reconnect of the same person may take over a client ID before the old
	 * socket closes: its first awareness message is its own state (the new
	 * connection owns nothing yet), or a newer one. Not an echo: stock
	 * y-websocket clients send back every state they receive, so one tab of a
	 * user sends the other tabs' states at the clock the server gave them; taking
	 * those over would move ownership with every frame, and closing the echoing
	 * tab would remove the other tabs' presence (PRES3).
	 */
	#mayTakeOver(
		owner: Owner,
		conn: Connection,
		clientID: number,
		clock: number
	): owner is Connection {
		if (owner === REMOTE_PRESENCE || owner.identity.id !== conn.identity.id) return false;
		return conn.clientIds.size === 0 || clock > (this.awareness.meta.get(clientID)?.clock ?? 0);
	}

	/**
	 * A person whose process died reconnects here with the same client ID, while
	 * this process still holds the state the dead process published (until it
	 * times out) (PRES6). Only the same user may take it: the state carries the
	 * identity its process stamped. Echoes of it from that user's other tabs
	 * (which own their own client ID already) do not move it.
	 */
	#mayTakeOverRemote(conn: Connection, clientID: number): boolean {
		if (conn.clientIds.size > 0) return false;
		const state = this.awareness.states.get(clientID) as { user?: { id?: unknown } } | undefined;
		return state === undefined || state.user?.id === conn.identity.id;
	}

	/**
	 * A reconnecting client re-sends its state at the clock it had, which this
	 * process and its clients may already hold, or have passed by one when the
	 * state was removed or timed out: applied as it is, nobody would take it.
	 * The connection is sent a removal of its own state instead, newer than any
	 * of those clocks; y-protocols answers that at once with its current state
	 * one clock later ("I am still here"), which everyone applies (PRES6).
	 */
	#nudged(conn: Connection, entry: AwarenessEntry): boolean {
		const known = this.awareness.meta.get(entry.clientID)?.clock;
		if (known === undefined || entry.clock > known + 1) return false;
		const removal = {
			clientID: entry.clientID,
			clock: Math.max(entry.clock, known) + 1,
			state: null
		};
		conn.send(awarenessFrame(encodeAwarenessEntries([removal])));
		return true;
	}

	#forgetRemote(clientID: number): void {
		if (this.#owners.get(clientID) === REMOTE_PRESENCE) this.#owners.delete(clientID);
	}

	#claim(clientID: number, conn: Connection): void {
		this.#owners.set(clientID, conn);
		conn.clientIds.add(clientID);
	}

	/** Stamped states from another process; never lets them take over a local client ID. */
	fromRemote(update: Uint8Array): void {
		let entries: AwarenessEntry[];
		try {
			entries = parseAwarenessUpdate(update);
		} catch (err) {
			this.#deps.logger.error({ err: String(err) }, 'malformed awareness from the bus');
			return;
		}
		const kept = entries.filter((entry) => {
			const owner = this.#owners.get(entry.clientID);
			if (owner !== undefined && owner !== REMOTE_PRESENCE) return false;
			if (entry.state === null) this.#owners.delete(entry.clientID);
			else this.#owners.set(entry.clientID, REMOTE_PRESENCE);
			return true;
		});
		if (kept.length > 0) {
			applyAwarenessEntries(this.awareness, kept, REMOTE_PRESENCE);
		}
	}

	/** The connection left: its clients' states are removed for everyone. */
	removeConnection(conn: Connection): void {
		const ids = [...conn.clientIds].filter((id) => this.#owners.get(id) === conn);
		for (const id of ids) this.#owners.delete(id);
		if (ids.length > 0) removeAwarenessStates(this.awareness, ids, conn);
	}

	/** The connection's identity changed (a new role): re-stamp its states at once. */
	restamp(conn: Connection): void {
		const entries: AwarenessEntry[] = [];
		for (const id of conn.clientIds) {
			const state = this.awareness.states.get(id);
			const meta = this.awareness.meta.get(id);
			if (state && meta)
				entries.push(stamp({ clientID: id, clock: meta.clock + 1, state }, conn.user));
		}
		if (entries.length > 0) {
			applyAwarenessEntries(this.awareness, entries, conn);
		}
	}

	/** Everything present, for a new connection or a query. */
	sendAll(conn: Connection): void {
		if (this.awareness.states.size === 0) return;
		// Kept until presence changes: clients that join together (a reconnect
		// after a restart) get one encoding, not one of all N states each.
		this.#allFrame ??= awarenessFrame(this.#encode([...this.awareness.states.keys()]));
		conn.send(this.#allFrame);
	}

	owner(clientID: number): Owner | undefined {
		return this.#owners.get(clientID);
	}

	destroy(): void {
		if (this.#timer) clearTimeout(this.#timer);
		if (this.#renewalTimer) clearTimeout(this.#renewalTimer);
		this.#timer = null;
		this.#renewalTimer = null;
		this.awareness.destroy();
	}

	#scheduleRenewals(): void {
		if (this.#renewalTimer || this.#renewed.size === 0) return;
		this.#renewalTimer = setTimeout(
			() => this.#guard('renewal', () => this.#drainRenewals()),
			this.#deps.renewalTickMs
		);
	}

	/**
	 * Sends merged renewals RENEWALS_PER_FRAME at a time, one slice per
	 * RENEWAL_SLICE_MS. Clients that connected together renew together every
	 * 15 s; one frame with all N states makes every client apply N entries at
	 * once (and stock y-websocket clients send all of them back), stalling edits
	 * behind it: measured for 250 clients in one process (a bench load
	 * generator) and N = 500, one frame stalls it 361 ms, slices of 32 at most
	 * 38 ms each (291 ms in all). 500 renewals go out within 1.6 s; any number
	 * within about 5 s (larger slices), well inside the 15 s of slack before
	 * clients drop a state.
	 */
	#drainRenewals(): void {
		this.#renewalTimer = null;
		const size = Math.max(RENEWALS_PER_FRAME, Math.ceil(this.#renewed.size / RENEWAL_SLICES));
		this.#send(this.#renewed.take(size));
		if (this.#renewed.size > 0) {
			this.#renewalTimer = setTimeout(
				() => this.#guard('renewal', () => this.#drainRenewals()),
				RENEWAL_SLICE_MS
			);
		}
	}

	/**
	 * Takes the changes waiting for the next tick now (publishing them on the
	 * bus) and returns their frame for the caller to send to every local
	 * connection, or null if nothing changed. The room calls it when it relays a
	 * stored batch, so that an edit and the cursor move that came with it reach
	 * each reader in one socket write rather than two, 20 ms apart.
	 */
	takeChanges(): Uint8Array | null {
		if (this.#changed.size === 0) return null;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		this.#renewed.subtract(this.#changed);
		return this.#frame(this.#changed);
	}

	#tick(): void {
		this.#timer = null;
		// What goes out now carries the newest clock: no need to renew it again.
		this.#renewed.subtract(this.#changed);
		this.#send(this.#changed);
	}

	#send(dirty: Dirty): void {
		const frame = this.#frame(dirty);
		if (frame) for (const conn of this.#deps.connections()) conn.send(frame);
	}

	/** Encodes the dirty states once for every local connection, and once for the bus. */
	#frame(dirty: Dirty): Uint8Array | null {
		const meta = this.awareness.meta;
		const ids = [...dirty.all].filter((id) => meta.has(id));
		const local = [...dirty.local].filter((id) => meta.has(id));
		dirty.clear();
		if (local.length > 0) this.#deps.publish(this.#encode(local));
		return ids.length > 0 ? awarenessFrame(this.#encode(ids)) : null;
	}

	/**
	 * Encodes states for sending. States are checked when they arrive (LIMIT7);
	 * should one still fail to encode, the connections that own such states are
	 * closed with 1011 and the states removed, and the others' go out without
	 * them: one client's state never stops everyone's presence.
	 */
	#encode(ids: number[]): Uint8Array {
		try {
			return encodeAwarenessUpdate(this.awareness, ids);
		} catch (err) {
			const bad = ids.filter((id) => !encodes(this.awareness.states.get(id)));
			this.#deps.logger.error(
				{ err: err instanceof Error ? err.message : String(err), clientIds: bad },
				'awareness states failed to encode; closing their connections'
			);
			for (const id of bad) {
				const owner = this.#owners.get(id);
				if (owner && owner !== REMOTE_PRESENCE) {
					owner.close(CloseCode.internalError, 'presence state could not be sent');
				}
			}
			// Closing removed the owned ones; states of other processes or the server go too.
			const left = bad.filter((id) => this.awareness.states.has(id));
			if (left.length > 0) removeAwarenessStates(this.awareness, left, 'server');
			return encodeAwarenessUpdate(this.awareness, ids);
		}
	}

	/** A timer's work: an error is logged, never thrown into the event loop (LIMIT8). */
	#guard(what: string, work: () => void): void {
		try {
			work();
		} catch (err) {
			this.#deps.logger.error(
				{ err: err instanceof Error ? err.stack : String(err) },
				`presence ${what} failed`
			);
		}
	}
}

function encodes(state: unknown): boolean {
	try {
		JSON.stringify(state);
		return true;
	} catch {
		return false;
	}
}

/** Client IDs to send: all of them to local connections, local ones also to the bus. */
class Dirty {
	readonly all = new Set<number>();
	readonly local = new Set<number>();

	get size(): number {
		return this.all.size;
	}

	mark(ids: readonly number[], origin: unknown): void {
		for (const id of ids) {
			this.all.add(id);
			// Timeouts and remote changes are each process's own business.
			if (origin !== REMOTE_PRESENCE && origin !== 'timeout') this.local.add(id);
		}
	}

	/** Removes and returns up to `max` of the IDs (with their local marks). */
	take(max: number): Dirty {
		const slice = new Dirty();
		for (const id of this.all) {
			if (slice.all.size >= max) break;
			slice.all.add(id);
			this.all.delete(id);
			if (this.local.delete(id)) slice.local.add(id);
		}
		return slice;
	}

	subtract(other: Dirty): void {
		for (const id of other.all) this.all.delete(id);
		for (const id of other.local) this.local.delete(id);
	}

	clear(): void {
		this.all.clear();
		this.local.clear();
	}
}
