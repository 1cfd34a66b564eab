// One loaded document: its Yjs doc, its connections, and the write pipeline
// that stores every update before anyone else sees it (RELAY2…RELAY6).
//
// Updates from writers are validated, applied to the doc, and what the doc
// reports as new (Yjs's own re-encoding, never the client's bytes) is queued.
// Queued updates are appended to storage in one batch per tick, one batch in
// flight per room; only when the batch is durable is it relayed, published on
// the bus, acknowledged (`saved`), and are sync replies computed at the cut
// sent. A failed batch goes back to the front of the queue and is retried with
// backoff; nothing of it is relayed or acknowledged until it is stored.

import * as Y from 'yjs';
import { schemaRoots, type DocKey, type RoomName } from '../protocol/docs.ts';
import type { UserId } from '../protocol/ids.ts';
import { CloseCode } from '../protocol/closeCodes.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { DocumentStore, LoadedDoc } from '../storage/types.ts';
import type { AwarenessEntry } from './awareness.ts';
import { Connection, type ConnectionHost } from './connection.ts';
import type { DocBusRoom } from './docBus.ts';
import {
	permissionDeniedFrame,
	savedFrame,
	storageFrame,
	syncStep1Frame,
	syncStep2Frame,
	updateFrame
} from './frames.ts';
import type { RelayLimits } from './limits.ts';
import { Presence } from './presence.ts';
import type { MutableStats } from './stats.ts';
import { applyStoredDoc, storedPieces, storedStateVector } from './stored.ts';
import { checkParents, checkRoots, isEmptyUpdate, validateUpdateV1 } from './validate.ts';

/** Transaction origins whose updates are already durable (not stored again). */
export const LOAD_ORIGIN = Symbol('load');
export const REMOTE_ORIGIN = Symbol('remote');

/** Origin of a server-side write (training, compat). */
export class ServerWrite {
	readonly author: UserId | null;
	constructor(author: UserId | null) {
		this.author = author;
	}
}

interface Pending {
	readonly update: Uint8Array;
	readonly author: UserId | null;
	readonly conn: Connection | null;
	readonly at: number;
	done?: { resolve(): void; reject(err: unknown): void };
}

interface SyncWaiter {
	readonly conn: Connection;
	readonly stateVector: Uint8Array;
}

export interface RoomDeps {
	readonly key: DocKey;
	readonly name: RoomName;
	readonly store: DocumentStore;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly limits: RelayLimits;
	readonly stats: MutableStats;
	/** Bytes waiting to be stored over all rooms of the process (`maxUnstoredBytes`). */
	readonly unstored: { bytes: number };
	/** A stored update, for the other processes. */
	publishUpdate(update: Uint8Array): void;
	publishAwareness(update: Uint8Array): void;
	/** Called when the room may have become idle (no connections, handles or unsaved updates). */
	maybeIdle(room: Room): void;
	/** Called after a write, to compact when the log has grown long. */
	afterWrite(room: Room): void;
	/** The doc threw while applying a validated update: evict and reload it. */
	broken(room: Room): void;
}

const MAX_RETRY_MS = 5000;
/** A cold-loaded doc nobody has asked about is built this long after its load (RELAY9). */
const COLD_BUILD_MS = 1000;
/** Stored pieces handed to a new client as they are; more are merged into one first. */
const SEPARATE_PIECES = 8;
/** Updates with missing dependencies in a row before the sender is closed (PENDING1). */
const MAX_RESYNC_ASKS = 20;

export class Room implements ConnectionHost, DocBusRoom {
	readonly #doc = new Y.Doc({ gc: true });
	readonly presence: Presence;
	readonly conns = new Set<Connection>();
	readonly deps: RoomDeps;
	handles = 0;
	/** Updates appended since the snapshot (as far as this process knows). */
	logLength = 0;
	broken = false;

	#pending: Pending[] = [];
	#flight: Promise<void> | null = null;
	#flushScheduled = false;
	#retryTimer: ReturnType<typeof setTimeout> | null = null;
	#retryMs: number;
	readonly #syncWaiters: SyncWaiter[] = [];
	#ackWaiters = new Set<Connection>();
	#fullSync: Uint8Array[] | null = null;
	/**
	 * A cold load's stored pieces, not applied to the doc yet (RELAY9): the first
	 * clients are answered from them, and the doc is built right after.
	 */
	#unapplied: Uint8Array[] | null = null;
	#buildTimer: ReturnType<typeof setTimeout> | null = null;
	/** The state vector of the unapplied pieces, read from their bytes (no doc needed). */
	#storedStateVector: Uint8Array | null = null;
	/** Connections still owed the server's sync step 1 (sent once the doc is built). */
	readonly #stepOneOwed = new Set<Connection>();
	/** Consecutive updates per connection that depended on changes this doc lacks (PENDING1). */
	readonly #resyncAsks = new Map<Connection, number>();
	/** Storage failed or stalled on this room's last write (DURABLE1). */
	#notStoring = false;
	#stallTimer: ReturnType<typeof setTimeout> | null = null;

	constructor(deps: RoomDeps) {
		this.deps = deps;
		this.#retryMs = deps.limits.storeRetryMs;
		this.presence = new Presence(this.#doc, {
			tickMs: deps.limits.awarenessTickMs,
			renewalTickMs: deps.limits.awarenessRenewalMs,
			logger: deps.logger,
			connections: () => this.conns,
			publish: (update) => deps.publishAwareness(update)
		});
		this.#doc.on('update', (update: Uint8Array, origin: unknown) =>
			this.#onDocUpdate(update, origin)
		);
	}

	/** The document, built from storage first if a cold load has not built it yet. */
	get doc(): Y.Doc {
		if (this.#unapplied) this.#build();
		return this.#doc;
	}

	load(loaded: LoadedDoc): void {
		this.logLength = loaded.updates.length;
		const pieces = storedPieces(
			loaded,
			{ logger: this.deps.logger, room: this.deps.name },
			SEPARATE_PIECES
		);
		if (pieces.length === 0) return;
		// What storage holds is already the answer to a new client: its pieces as
		// updates, the last as the sync step 2 that says "synced", in one socket
		// write. No decoding into the doc and encoding the doc again first: the doc
		// is built once that first answer has gone out (for the `saved` and sync
		// step 1 that follow it), when something else needs it, or after
		// COLD_BUILD_MS at the latest.
		this.#unapplied = pieces;
		this.#fullSync = pieces.map((p, i) =>
			i === pieces.length - 1 ? syncStep2Frame(p) : updateFrame(p)
		);
		this.#armBuild();
	}

	/** Builds a cold doc COLD_BUILD_MS from now if anyone is still there then. */
	#armBuild(): void {
		if (this.#buildTimer || !this.#unapplied) return;
		this.#buildTimer = setTimeout(() => {
			this.#buildTimer = null;
			// Everyone left: nothing needs the doc (a later connection arms it again).
			if (this.conns.size > 0 || this.handles > 0) this.#build();
		}, COLD_BUILD_MS);
		this.#buildTimer.unref?.();
	}

	#build(): void {
		if (this.#buildTimer) clearTimeout(this.#buildTimer);
		this.#buildTimer = null;
		const pieces = this.#unapplied;
		if (!pieces) return;
		this.#unapplied = null;
		this.#storedStateVector = null;
		this.deps.stats.documentsBuilt++;
		try {
			this.#doc.transact(() => {
				for (const piece of pieces) Y.applyUpdate(this.#doc, piece, LOAD_ORIGIN);
			}, LOAD_ORIGIN);
		} catch (err) {
			this.#stepOneOwed.clear();
			this.#break('the stored document failed to apply', err);
			return;
		}
		if (this.#stepOneOwed.size === 0) return;
		const stepOne = syncStep1Frame(Y.encodeStateVector(this.#doc));
		for (const conn of this.#stepOneOwed) conn.send(stepOne);
		this.#stepOneOwed.clear();
	}

	/** Nothing applied here is waiting to be stored. */
	get durable(): boolean {
		return this.#flight === null && this.#pending.length === 0;
	}

	/** Storage failed or has not answered for `storeStallMs`: nothing is being saved. */
	get notStoring(): boolean {
		return this.#notStoring;
	}

	get idle(): boolean {
		return this.conns.size === 0 && this.handles === 0 && this.durable;
	}

	addConnection(conn: Connection): void {
		this.conns.add(conn);
		if (this.#unapplied) {
			this.#stepOneOwed.add(conn);
			this.#armBuild();
		} else conn.send(syncStep1Frame(Y.encodeStateVector(this.#doc)));
		if (this.#notStoring && conn.options.ack) conn.send(storageFrame(false));
		this.presence.sendAll(conn);
		conn.attach(this);
	}

	// ConnectionHost

	onSyncStep1(conn: Connection, stateVector: Uint8Array): void {
		if (this.broken) return;
		// A new client must not receive state that is not durable yet (RELAY3).
		if (this.durable) this.#answerSync(conn, stateVector);
		else if (this.#syncWaiters.length >= this.deps.limits.maxSyncWaiters)
			conn.close(CloseCode.tryAgainLater, 'too many clients waiting for storage');
		else this.#syncWaiters.push({ conn, stateVector });
	}

	onClientUpdate(conn: Connection, update: Uint8Array): void {
		if (this.broken) return;
		const shape = validateUpdateV1(update);
		if (!isEmptyUpdate(shape)) {
			checkRoots(shape, schemaRoots(this.deps.key.doc), this.deps.key.doc);
			const { limits, unstored } = this.deps;
			if (
				this.#pending.length >= limits.maxUnstoredUpdates ||
				unstored.bytes + update.length > limits.maxUnstoredBytes
			) {
				// Storage is not keeping up (or is down): refuse rather than grow without bound.
				conn.close(CloseCode.tryAgainLater, 'changes cannot be stored right now');
				return;
			}
			checkParents(this.doc, shape);
			this.deps.stats.updatesReceived++;
			const before = this.#pending.length;
			try {
				Y.applyUpdate(this.doc, update, conn);
			} catch (err) {
				// Validation let through an update Yjs could not apply; the doc may be
				// damaged, so nothing of this transaction is kept and the room reloads.
				this.#discard(before);
				conn.close(CloseCode.invalidPayload, 'update could not be applied');
				this.#break('a validated update failed to apply', err);
				return;
			}
			if (this.#dropPending()) {
				// Part of it depends on changes this document lacks. Yjs would hold that
				// part and apply it, unstored, when they arrive (PENDING1): it is dropped
				// instead, and the client is asked for everything we lack, which it
				// answers with one whole update. What did apply is stored as usual.
				this.#askResync(conn);
				return;
			}
			this.#resyncAsks.delete(conn);
		}
		if (conn.options.ack) {
			this.#ackWaiters.add(conn);
			if (this.durable) this.#sendAcks(this.#stateVector());
		}
	}

	onDeniedUpdate(conn: Connection, update: Uint8Array): void {
		const shape = validateUpdateV1(update);
		if (isEmptyUpdate(shape) || conn.deniedSent) return;
		conn.deniedSent = true;
		conn.send(permissionDeniedFrame('read-only: your role may not change this document'));
	}

	onAwareness(conn: Connection, entries: AwarenessEntry[]): void {
		this.presence.fromClient(conn, entries);
	}

	ignoresAwareness(conn: Connection, clientID: number, clock: number): boolean {
		return this.presence.ignores(conn, clientID, clock);
	}

	onQueryAwareness(conn: Connection): void {
		this.presence.sendAll(conn);
	}

	onClose(conn: Connection): void {
		this.conns.delete(conn);
		this.#stepOneOwed.delete(conn);
		this.#resyncAsks.delete(conn);
		this.#ackWaiters.delete(conn);
		this.presence.removeConnection(conn);
		this.deps.maybeIdle(this);
	}

	// Server-side writes and updates from other processes

	/** Runs `change` in one transaction; resolves once what it changed is stored. */
	write(author: UserId | null, change: (doc: Y.Doc) => void): Promise<void> {
		if (this.broken) return Promise.reject(new Error('document is reloading'));
		const before = this.#pending.length;
		this.doc.transact(() => change(this.doc), new ServerWrite(author));
		const last =
			this.#pending.length > before ? this.#pending[this.#pending.length - 1] : undefined;
		if (!last) return Promise.resolve();
		return new Promise((resolve, reject) => {
			last.done = { resolve, reject };
		});
	}

	/**
	 * An update another process stored and published. False when part of it
	 * depends on what this doc lacks (a lost bus message): that part is dropped,
	 * and the caller re-syncs from storage, which has it all (PENDING2).
	 */
	applyRemote(update: Uint8Array): boolean {
		if (this.broken) return true;
		try {
			Y.applyUpdate(this.doc, update, REMOTE_ORIGIN);
		} catch (err) {
			this.#break('an update from the bus or storage failed to apply', err);
			return true;
		}
		return !this.#dropPending();
	}

	applyRemoteAwareness(update: Uint8Array): void {
		this.presence.fromRemote(update);
	}

	/** Brings in whatever storage has that this doc lacks (after a bus gap). */
	applyStored(loaded: LoadedDoc): void {
		const scratch = new Y.Doc({ gc: true });
		try {
			applyStoredDoc(scratch, loaded, { logger: this.deps.logger, room: this.deps.name });
			const missing = Y.encodeStateAsUpdate(scratch, Y.encodeStateVector(this.doc));
			if (!this.applyRemote(missing))
				this.deps.logger.error(
					{ room: this.deps.name },
					'storage lacks a dependency of what it holds'
				);
		} finally {
			scratch.destroy();
		}
	}

	/** Stores what is queued now; resolves true when nothing is left unstored. */
	async drain(): Promise<boolean> {
		for (let attempt = 0; attempt < 3 && !this.durable; attempt++) {
			if (this.#retryTimer) {
				clearTimeout(this.#retryTimer);
				this.#retryTimer = null;
			}
			await (this.#flight ?? this.#flush());
		}
		return this.durable;
	}

	closeAll(code: number, reason: string): void {
		for (const conn of [...this.conns]) conn.close(code, reason);
	}

	destroy(): void {
		if (this.#retryTimer) clearTimeout(this.#retryTimer);
		this.#retryTimer = null;
		if (this.#stallTimer) clearTimeout(this.#stallTimer);
		this.#stallTimer = null;
		for (const p of this.#pending)
			p.done?.reject(new Error('document unloaded before it was stored'));
		this.#discard(0);
		this.presence.destroy();
		this.#unapplied = null;
		if (this.#buildTimer) clearTimeout(this.#buildTimer);
		this.#buildTimer = null;
		this.#stepOneOwed.clear();
		this.#doc.destroy();
	}

	broadcast(frame: Uint8Array, except: Connection | null): void {
		for (const conn of this.conns) if (conn !== except) conn.send(frame);
	}

	/**
	 * The sync step 2 answering `stateVector`. The answer to an empty one (a new
	 * client: the whole document) is kept until the doc changes, so that clients
	 * loading a big document one after another cost one encoding, not one each.
	 */
	#syncReply(stateVector: Uint8Array): Uint8Array[] {
		const empty = stateVector.length === 1 && stateVector[0] === 0;
		if (!empty) return [syncStep2Frame(Y.encodeStateAsUpdate(this.doc, stateVector))];
		this.#fullSync ??= [syncStep2Frame(Y.encodeStateAsUpdate(this.doc))];
		return this.#fullSync;
	}

	#onDocUpdate(update: Uint8Array, origin: unknown): void {
		// Building the doc from what storage holds changes nothing anyone was sent.
		if (origin === LOAD_ORIGIN) return;
		this.#fullSync = null;
		if (this.broken) {
			// A damaged doc's output never reaches storage or anyone (RELAY8).
			this.deps.logger.warn({ room: this.deps.name }, 'dropped a change to a damaged document');
			return;
		}
		if (origin === REMOTE_ORIGIN) {
			// Stored by the process that published it: relay at once.
			this.broadcast(updateFrame(update), null);
			return;
		}
		let author: UserId | null = null;
		let conn: Connection | null = null;
		if (origin instanceof Connection) {
			conn = origin;
			author = origin.identity.id;
		} else if (origin instanceof ServerWrite) {
			author = origin.author;
		}
		this.#pending.push({ update, author, conn, at: this.deps.clock.now() });
		this.deps.unstored.bytes += update.length;
		this.#scheduleFlush();
	}

	/**
	 * Whether the last apply left structs or deletions pending (waiting for
	 * changes this doc lacks); if so they are dropped. Yjs keeps them in the
	 * store, applies them inside whatever transaction brings what they wait for
	 * (then relayed under that transaction's origin but never stored as theirs),
	 * and puts them in every `encodeStateAsUpdate`: a sync reply would hand out
	 * bytes storage does not have. No pending state survives an apply, so what
	 * is dropped is exactly the last update's.
	 */
	#dropPending(): boolean {
		const store = this.doc.store;
		if (store.pendingStructs === null && store.pendingDs === null) return false;
		store.pendingStructs = null;
		store.pendingDs = null;
		this.#fullSync = null;
		this.deps.stats.updatesHeldBack++;
		return true;
	}

	/** Asks a client for what we lack (sync step 1); one that never sends it whole is closed. */
	#askResync(conn: Connection): void {
		const asks = (this.#resyncAsks.get(conn) ?? 0) + 1;
		this.#resyncAsks.set(conn, asks);
		if (asks > MAX_RESYNC_ASKS) {
			conn.close(CloseCode.invalidPayload, 'updates depend on changes the server does not have');
			return;
		}
		conn.send(syncStep1Frame(Y.encodeStateVector(this.doc)));
	}

	/**
	 * The doc threw while applying (or encoding): it may be damaged. It stops
	 * taking writes and answering sync at once: every socket is closed (1011,
	 * clients reconnect and re-sync), nobody waits for a reply from it, and the
	 * relay stores what was queued before (clean transactions) and reloads it
	 * from storage on next use (RELAY8).
	 */
	#break(what: string, err: unknown): void {
		if (this.broken) return;
		this.broken = true;
		this.deps.logger.error(
			{ err: err instanceof Error ? err.message : String(err), room: this.deps.name },
			`${what}; reloading the document`
		);
		this.#syncWaiters.length = 0;
		this.#ackWaiters.clear();
		this.#fullSync = null;
		this.closeAll(CloseCode.internalError, 'document reloading');
		this.deps.broken(this);
	}

	/** Drops queued updates from index `from` on (never stored: their bytes no longer count). */
	#discard(from: number): void {
		for (const p of this.#pending.slice(from)) this.deps.unstored.bytes -= p.update.length;
		this.#pending.length = from;
	}

	/** Tells opted-in clients when storage stops or starts taking this room's changes. */
	#setStoring(storing: boolean): void {
		if (this.#stallTimer) clearTimeout(this.#stallTimer);
		this.#stallTimer = null;
		if (this.#notStoring === !storing) return;
		this.#notStoring = !storing;
		if (!storing) this.deps.logger.warn({ room: this.deps.name }, 'changes are not being stored');
		else this.deps.logger.info({ room: this.deps.name }, 'storing changes again');
		const frame = storageFrame(storing);
		for (const conn of this.conns) if (conn.options.ack) conn.send(frame);
	}

	#scheduleFlush(): void {
		if (this.#flushScheduled || this.#flight || this.#retryTimer) return;
		this.#flushScheduled = true;
		// One batch per turn of the event loop: everything read in this poll phase.
		setImmediate(() => {
			this.#flushScheduled = false;
			void this.#flush();
		});
	}

	#flush(): Promise<void> {
		if (this.#flight || this.#pending.length === 0) return Promise.resolve();
		// A write that does not answer counts as failing once it is late (DURABLE1).
		this.#stallTimer ??= setTimeout(() => {
			this.#stallTimer = null;
			if (this.#flight) this.#setStoring(false);
		}, this.deps.limits.storeStallMs);
		this.#stallTimer.unref?.();
		this.#flight = this.#write().finally(() => {
			this.#flight = null;
			this.#afterFlight();
		});
		return this.#flight;
	}

	async #write(): Promise<void> {
		const batch = this.#pending;
		this.#pending = [];
		let syncs: Array<SyncWaiter & { frames: Uint8Array[] }>;
		try {
			syncs = this.#syncWaiters.map((w) => ({ ...w, frames: this.#syncReply(w.stateVector) }));
		} catch (err) {
			// The batch is still stored (it came from clean transactions); nobody gets a reply.
			this.#break('encoding a sync reply failed', err);
			syncs = [];
		}
		this.#syncWaiters.length = 0;
		const acks = this.#ackWaiters;
		this.#ackWaiters = new Set();
		// Everything in the doc now is in this batch or already stored: this state
		// vector, and sync replies computed now, become durable with the batch. It
		// is encoded only when someone will be acknowledged with it (ACK1).
		const stateVector =
			acks.size > 0 || syncs.some((s) => s.conn.options.ack) ? Y.encodeStateVector(this.doc) : null;
		const { name, store, stats, logger } = this.deps;
		const started = this.deps.clock.now();
		try {
			await store.appendUpdates(
				batch.map((p) => ({ room: name, update: p.update, author: p.author, at: p.at }))
			);
		} catch (err) {
			stats.storeFailures++;
			logger.error(
				{
					err: err instanceof Error ? err.message : String(err),
					room: name,
					updates: batch.length
				},
				'storing updates failed; they stay in memory, unrelayed and unacknowledged, and are retried'
			);
			this.#setStoring(false);
			this.#pending = batch.concat(this.#pending);
			this.#syncWaiters.unshift(...syncs.map(({ conn, stateVector }) => ({ conn, stateVector })));
			for (const conn of acks) this.#ackWaiters.add(conn);
			for (const p of batch) {
				p.done?.reject(err);
				delete p.done;
			}
			const delay = this.#retryMs;
			this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
			this.#retryTimer = setTimeout(() => {
				this.#retryTimer = null;
				void this.#flush();
			}, delay);
			this.#retryTimer.unref?.();
			return;
		}
		this.#retryMs = this.deps.limits.storeRetryMs;
		for (const p of batch) this.deps.unstored.bytes -= p.update.length;
		this.#setStoring(true);
		stats.updatesStored += batch.length;
		stats.storeMs += this.deps.clock.now() - started;
		this.logLength += batch.length;
		this.#relayBatch(batch);
		const saved = stateVector && savedFrame(stateVector);
		for (const s of syncs) {
			s.conn.sendFrames(s.frames);
			if (saved && s.conn.options.ack) s.conn.send(saved);
		}
		if (saved) for (const conn of acks) conn.send(saved);
		for (const p of batch) p.done?.resolve();
		this.deps.afterWrite(this);
	}

	/**
	 * Sends a stored batch to the room, each update framed once (not to its
	 * sender), with the presence changes waiting for the next tick, so that
	 * each connection gets one socket write.
	 */
	#relayBatch(batch: readonly Pending[]): void {
		const frames = batch.map((p) => updateFrame(p.update));
		for (const p of batch) this.deps.publishUpdate(p.update);
		const presence = this.presence.takeChanges();
		if (presence) frames.push(presence);
		const single = batch.length === 1 ? batch[0]!.conn : undefined;
		for (const conn of this.conns) {
			if (single !== undefined) {
				// The common case: one update; its sender gets only the presence frame.
				if (conn !== single) conn.sendFrames(frames);
				else if (presence) conn.send(presence);
				continue;
			}
			conn.sendFrames(frames.filter((_, i) => i >= batch.length || batch[i]!.conn !== conn));
		}
	}

	#afterFlight(): void {
		if (this.#retryTimer) return;
		if (this.#pending.length > 0) {
			this.#scheduleFlush();
			return;
		}
		// Durable now: answer whoever asked while the batch was in flight.
		for (const w of this.#syncWaiters.splice(0)) this.#answerSync(w.conn, w.stateVector);
		if (this.#ackWaiters.size > 0) this.#sendAcks(Y.encodeStateVector(this.doc));
		this.deps.maybeIdle(this);
	}

	#answerSync(conn: Connection, stateVector: Uint8Array): void {
		if (conn.closed || this.broken) return;
		let reply: Uint8Array[];
		try {
			reply = this.#syncReply(stateVector);
		} catch (err) {
			this.#break('encoding a sync reply failed', err);
			return;
		}
		conn.sendFrames(reply);
		// After the answer has gone out: what the client is told is saved, and the
		// server's own sync step 1; a cold doc still is not built for them.
		if (!conn.options.ack && !this.#stepOneOwed.has(conn)) return;
		const ours = this.#stateVector();
		if (conn.options.ack) conn.send(savedFrame(ours));
		if (this.#stepOneOwed.delete(conn)) conn.send(syncStep1Frame(ours));
	}

	/**
	 * The doc's state vector; for a cold doc not built yet, read from the stored
	 * pieces' bytes (a few ms for a 311 KB document, where building it takes
	 * 15-40), the same vector the built doc would have.
	 */
	#stateVector(): Uint8Array {
		const pieces = this.#unapplied;
		if (!pieces) return Y.encodeStateVector(this.#doc);
		this.#storedStateVector ??= storedStateVector(pieces);
		return this.#storedStateVector;
	}

	#sendAcks(stateVector: Uint8Array): void {
		const saved = savedFrame(stateVector);
		for (const conn of this.#ackWaiters) conn.send(saved);
		this.#ackWaiters.clear();
	}
}
