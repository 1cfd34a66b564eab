// The relay: rooms by name, loaded lazily and unloaded when idle, connected to
// other processes through the bus (SPEC.md). No module-level state: several
// relays may run in one process.

import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { CloseCode } from '../protocol/closeCodes.ts';
import { roomName, VIEWS, type DocKey, type RoomName, type View } from '../protocol/docs.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';
import { isRole, type Role } from '../protocol/roles.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { DocumentStore } from '../storage/types.ts';
import type {
	ConnectOptions,
	DocHandle,
	Identity,
	PresentUser,
	RelayApi,
	RoleChange,
	RelaySocket,
	RelayStats
} from './api.ts';
import { MemoryBus, type Bus } from './bus.ts';
import { BusKind, CONTROL_CHANNEL, decodeBusMessage, encodeBusMessage } from './busCodec.ts';
import { Connection } from './connection.ts';
import { DocBus } from './docBus.ts';
import { DEFAULT_LIMITS, type RelayLimits } from './limits.ts';
import { REMOTE_PRESENCE } from './presence.ts';
import { Room } from './room.ts';
import { applyStoredDoc } from './stored.ts';
import { newStats, type MutableStats } from './stats.ts';

/** How often connections that promised signs of life are checked (PRES7). */
const LIVENESS_SWEEP_MS = 500;

export interface RelayOptions {
	readonly storage: DocumentStore;
	/** Connects processes; an in-memory bus of its own when absent (one process). */
	readonly bus?: Bus;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly limits?: Partial<RelayLimits>;
	/** A room with no connections, handles or unsaved updates unloads after this long (default 30 s). */
	readonly idleUnloadMs?: number;
}

interface LoadedRoom {
	readonly room: Room;
	readonly bus: DocBus;
	idleTimer: ReturnType<typeof setTimeout> | null;
	compacting: boolean;
}

interface RoleMessage {
	readonly workspace: WorkspaceId;
	readonly user?: UserId;
	readonly role?: Role | null;
}

export class Relay implements RelayApi {
	readonly id = crypto.randomUUID();
	readonly #store: DocumentStore;
	readonly #bus: Bus;
	readonly #clock: Clock;
	readonly #logger: Logger;
	readonly #limits: RelayLimits;
	readonly #idleUnloadMs: number;
	readonly #stats: MutableStats = newStats();
	/** Bytes waiting to be stored over all rooms (`maxUnstoredBytes`). */
	readonly #unstored = { bytes: 0 };
	readonly #rooms = new Map<RoomName, LoadedRoom>();
	/** Every open connection, also those whose document is still loading (roles apply to them too). */
	readonly #connections = new Set<Connection>();
	/** Rooms being loaded or unloaded; the next user of the name waits for it. */
	readonly #transitions = new Map<RoomName, Promise<unknown>>();
	readonly #ready: Promise<unknown>;
	#unsubscribeControl: (() => void) | null = null;
	readonly #offGap: () => void;
	readonly #roleListeners = new Set<(change: RoleChange) => void>();
	readonly #storedListeners = new Set<(key: DocKey) => void>();
	#generation = 0;
	#closed = false;
	readonly #heartbeat: ReturnType<typeof setInterval>;
	readonly #liveness: ReturnType<typeof setInterval>;

	constructor(options: RelayOptions) {
		this.#store = options.storage;
		this.#bus = options.bus ?? new MemoryBus();
		this.#clock = options.clock;
		this.#logger = options.logger.child({ component: 'relay' });
		this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
		this.#idleUnloadMs = options.idleUnloadMs ?? 30_000;
		this.#ready = this.#subscribeControl();
		this.#offGap = this.#bus.onGap(() => this.#resyncAll());
		this.#heartbeat = setInterval(() => this.#heartbeats(), this.#limits.busHeartbeatMs);
		this.#heartbeat.unref?.();
		this.#liveness = setInterval(() => this.#closeSilent(), LIVENESS_SWEEP_MS);
		this.#liveness.unref?.();
	}

	/** Resolves once the relay listens for role changes from other processes. */
	ready(): Promise<void> {
		return this.#ready.then(() => undefined);
	}

	/** Whether the relay hears other processes' role changes (for /readyz, BUS4). */
	listening(): boolean {
		return this.#unsubscribeControl !== null;
	}

	/** Subscribes to the control channel, retrying with backoff until the bus answers (BUS4). */
	async #subscribeControl(): Promise<void> {
		for (let delay = 100; !this.#closed; delay = Math.min(delay * 2, 5000)) {
			try {
				const off = await this.#bus.subscribe(CONTROL_CHANNEL, (m) => this.#onControl(m));
				if (this.#closed) off();
				else this.#unsubscribeControl = off;
				return;
			} catch (err) {
				this.#logger.error(
					{ err: String(err), retryInMs: delay },
					'subscribing to the control channel failed; retrying'
				);
				await new Promise((resolve) => setTimeout(resolve, delay).unref?.());
			}
		}
	}

	handleConnection(
		socket: RelaySocket,
		key: DocKey,
		identity: Identity,
		options: ConnectOptions
	): void {
		if (this.#closed) {
			socket.close(CloseCode.serviceRestart, 'server is shutting down');
			return;
		}
		const conn = new Connection(socket, key, identity, options, {
			limits: this.#limits,
			clock: this.#clock,
			logger: this.#logger,
			counters: this.#stats
		});
		this.#stats.connections++;
		this.#connections.add(conn);
		socket.on('close', () => {
			this.#stats.connections--;
			this.#connections.delete(conn);
		});
		this.#acquire(key).then(
			(loaded) => {
				if (conn.closed) return this.#maybeIdle(loaded.room);
				if (this.#closed) return conn.close(CloseCode.serviceRestart, 'server is shutting down');
				loaded.room.addConnection(conn);
			},
			(err: unknown) => {
				// Storage or the bus did not answer: retryable, the client reconnects (DURABLE3).
				this.#logger.error({ err: String(err), room: roomName(key) }, 'loading a document failed');
				conn.close(CloseCode.tryAgainLater, 'could not load the document; try again');
			}
		);
	}

	async setMemberRole(workspace: WorkspaceId, user: UserId, role: Role | null): Promise<void> {
		this.#applyRole({ workspace, user, role });
		await this.#publishControl(BusKind.role, { workspace, user, role });
	}

	onStored(listener: (key: DocKey) => void): () => void {
		this.#storedListeners.add(listener);
		return () => this.#storedListeners.delete(listener);
	}

	onRoleChange(listener: (change: RoleChange) => void): () => void {
		this.#roleListeners.add(listener);
		return () => this.#roleListeners.delete(listener);
	}

	async closeWorkspace(workspace: WorkspaceId): Promise<void> {
		await this.#publishControl(BusKind.closeWorkspace, { workspace });
		await this.#closeWorkspaceHere(workspace);
	}

	async write(key: DocKey, author: UserId | null, change: (doc: Y.Doc) => void): Promise<void> {
		if (this.#closed) throw new Error('relay is closed');
		const { room } = await this.#acquire(key);
		room.handles++;
		try {
			await room.write(author, change);
		} finally {
			room.handles--;
			this.#maybeIdle(room);
		}
	}

	async open(key: DocKey): Promise<DocHandle> {
		if (this.#closed) throw new Error('relay is closed');
		const { room } = await this.#acquire(key);
		room.handles++;
		let released = false;
		return {
			doc: room.doc,
			awareness: room.presence.awareness,
			release: () => {
				if (released) return;
				released = true;
				room.handles--;
				this.#maybeIdle(room);
			}
		};
	}

	presentUsers(workspace: WorkspaceId): PresentUser[] {
		const byId = new Map<string, PresentUser>();
		for (const { room } of this.#rooms.values()) {
			if (room.deps.key.workspace !== workspace) continue;
			const { awareness } = room.presence;
			for (const [clientID, state] of awareness.getStates()) {
				const owner = room.presence.owner(clientID);
				const user = present(owner, state, awareness, clientID);
				if (!user) continue;
				const prev = byId.get(user.id);
				if (!prev) {
					byId.set(user.id, user);
					continue;
				}
				// One entry per person: the most recent view, and the e-mail if any process knows it.
				const latest = user.last_active >= prev.last_active ? user : prev;
				byId.set(user.id, { ...latest, email: prev.email || user.email });
			}
		}
		return [...byId.values()];
	}

	stats(): RelayStats {
		return { ...this.#stats, documentsLoaded: this.#rooms.size };
	}

	/**
	 * False while some room's changes are not being stored (its last write failed
	 * or has not answered for `storeStallMs`): /readyz is 503 meanwhile (DURABLE1).
	 */
	storing(): boolean {
		for (const { room } of this.#rooms.values()) if (room.notStoring) return false;
		return true;
	}

	/** Mean store latency in ms over all writes so far (for /metrics). */
	meanStoreMs(): number {
		return this.#stats.updatesStored === 0 ? 0 : this.#stats.storeMs / this.#stats.updatesStored;
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		clearInterval(this.#heartbeat);
		clearInterval(this.#liveness);
		this.#offGap();
		this.#unsubscribeControl?.();
		await Promise.allSettled([...this.#transitions.values()]);
		for (const loaded of [...this.#rooms.values()]) {
			const { room } = loaded;
			if (!(await room.drain())) {
				this.#logger.error(
					{ room: room.deps.name },
					'closing with updates that could not be stored; they are lost'
				);
			}
			room.closeAll(CloseCode.serviceRestart, 'server restarting');
			this.#drop(loaded);
		}
	}

	// Loading and unloading

	async #acquire(key: DocKey): Promise<LoadedRoom> {
		const name = roomName(key);
		for (let i = 0; i < 10; i++) {
			const loaded = this.#rooms.get(name);
			if (loaded) {
				if (loaded.idleTimer) clearTimeout(loaded.idleTimer);
				loaded.idleTimer = null;
				return loaded;
			}
			const transition = this.#transitions.get(name);
			if (transition) {
				await transition.catch(() => undefined);
				continue;
			}
			const loading = this.#load(key, name);
			this.#transitions.set(name, loading);
			try {
				return await loading;
			} finally {
				this.#transitions.delete(name);
			}
		}
		throw new Error(`document ${name} kept changing state while loading`);
	}

	async #load(key: DocKey, name: RoomName): Promise<LoadedRoom> {
		const room = new Room({
			key,
			name,
			store: this.#store,
			clock: this.#clock,
			logger: this.#logger,
			limits: this.#limits,
			stats: this.#stats,
			unstored: this.#unstored,
			publishUpdate: (u) => docBus.publish(BusKind.update, u),
			publishAwareness: (u) => docBus.publish(BusKind.awareness, u),
			maybeIdle: (r) => this.#maybeIdle(r),
			afterWrite: (r) => {
				this.#maybeCompact(r);
				for (const listener of this.#storedListeners) listener(r.deps.key);
			},
			broken: (r) => void this.#evict(r)
		});
		const docBus = new DocBus(
			{
				bus: this.#bus,
				store: this.#store,
				name,
				origin: `${this.id}/${++this.#generation}`,
				clock: this.#clock,
				logger: this.#logger,
				stats: this.#stats
			},
			room
		);
		const loaded: LoadedRoom = { room, bus: docBus, idleTimer: null, compacting: false };
		try {
			// Subscribe before reading storage (BUS3).
			await docBus.subscribe();
			room.load(await this.#store.loadDoc(name));
		} catch (err) {
			docBus.close();
			room.destroy();
			throw err;
		}
		this.#rooms.set(name, loaded);
		return loaded;
	}

	#maybeIdle(room: Room): void {
		const loaded = this.#rooms.get(room.deps.name);
		if (!loaded || loaded.room !== room || !room.idle || loaded.idleTimer || this.#closed) return;
		loaded.idleTimer = setTimeout(() => {
			loaded.idleTimer = null;
			if (room.idle && this.#rooms.get(room.deps.name) === loaded) {
				const unloading = this.#unload(loaded);
				this.#transitions.set(room.deps.name, unloading);
				void unloading.finally(() => {
					if (this.#transitions.get(room.deps.name) === unloading)
						this.#transitions.delete(room.deps.name);
				});
			}
		}, this.#idleUnloadMs);
		loaded.idleTimer.unref?.();
	}

	async #unload(loaded: LoadedRoom): Promise<void> {
		const { room } = loaded;
		this.#rooms.delete(room.deps.name);
		try {
			if (room.logLength > 0) await this.#compact(room);
		} catch (err) {
			// The log stays as it is; compaction is retried at the next unload.
			this.#logger.warn({ err: String(err), room: room.deps.name }, 'compaction on unload failed');
		}
		this.#drop(loaded);
	}

	#drop(loaded: LoadedRoom): void {
		if (loaded.idleTimer) clearTimeout(loaded.idleTimer);
		loaded.bus.close();
		loaded.room.destroy();
		if (this.#rooms.get(loaded.room.deps.name) === loaded)
			this.#rooms.delete(loaded.room.deps.name);
	}

	/** A damaged doc: store what was queued, send everyone to reconnect, reload later. */
	async #evict(room: Room): Promise<void> {
		const loaded = this.#rooms.get(room.deps.name);
		if (!loaded || loaded.room !== room) return;
		this.#rooms.delete(room.deps.name);
		const evicting = room.drain();
		this.#transitions.set(room.deps.name, evicting);
		try {
			await evicting;
		} finally {
			this.#transitions.delete(room.deps.name);
		}
		room.closeAll(CloseCode.internalError, 'document reloading');
		this.#drop(loaded);
	}

	#maybeCompact(room: Room): void {
		const loaded = this.#rooms.get(room.deps.name);
		if (!loaded || loaded.compacting || room.logLength < this.#limits.compactAfterUpdates) return;
		loaded.compacting = true;
		this.#compact(room)
			.catch((err: unknown) =>
				this.#logger.warn({ err: String(err), room: room.deps.name }, 'compaction failed')
			)
			.finally(() => {
				loaded.compacting = false;
			});
	}

	/**
	 * Folds the stored log into a snapshot. Built from what storage holds (not
	 * from the doc in memory), so the snapshot is exactly the state at `lastSeq`
	 * even if this process missed another's update.
	 */
	async #compact(room: Room): Promise<void> {
		const stored = await this.#store.loadDoc(room.deps.name);
		if (stored.updates.length === 0) return;
		const scratch = new Y.Doc({ gc: true });
		try {
			applyStoredDoc(scratch, stored, { logger: this.#logger, room: room.deps.name });
			await this.#store.compact(room.deps.name, Y.encodeStateAsUpdate(scratch), stored.lastSeq);
			room.logLength = 0;
		} finally {
			scratch.destroy();
		}
	}

	/**
	 * A dropped network sends no close frame (and a browser answers pings while
	 * it only emulates being offline): a client that promised to speak within
	 * `aliveWithinMs` and did not is gone. Closing it removes its presence (PRES7).
	 */
	#closeSilent(): void {
		const now = this.#clock.now();
		for (const conn of this.#connections) {
			if (conn.aliveWithinMs !== null && now - conn.lastActive > conn.aliveWithinMs) {
				conn.close(CloseCode.goingAway, 'no sign of life');
			}
		}
	}

	// The bus

	#heartbeats(): void {
		for (const loaded of this.#rooms.values()) loaded.bus.heartbeat();
	}

	#resyncAll(): void {
		this.#logger.warn(
			{ rooms: this.#rooms.size },
			'bus messages may have been lost; re-syncing from storage'
		);
		for (const loaded of this.#rooms.values()) void loaded.bus.resync();
	}

	async #publishControl(kind: BusKind, body: RoleMessage): Promise<void> {
		const payload = new TextEncoder().encode(JSON.stringify(body));
		this.#stats.busMessagesOut++;
		await this.#bus.publish(
			CONTROL_CHANNEL,
			encodeBusMessage({ kind, origin: this.id, seq: 0, payload })
		);
	}

	#onControl(bytes: Uint8Array): void {
		try {
			const m = decodeBusMessage(bytes);
			if (m.origin === this.id) return;
			this.#stats.busMessagesIn++;
			const body = JSON.parse(new TextDecoder().decode(m.payload)) as RoleMessage;
			if (m.kind === BusKind.role && body.user) {
				const role = isRole(body.role) ? body.role : null;
				this.#applyRole({ workspace: body.workspace, user: body.user, role });
			} else if (m.kind === BusKind.closeWorkspace) void this.#closeWorkspaceHere(body.workspace);
		} catch (err) {
			this.#logger.error({ err: String(err) }, 'malformed control message on the bus');
		}
	}

	#applyRole(change: RoleChange): void {
		const { workspace, user, role } = change;
		for (const conn of [...this.#connections]) {
			if (conn.key.workspace !== workspace || conn.identity.id !== user) continue;
			if (!isRole(role)) {
				conn.close(CloseCode.forbidden, 'access revoked');
			} else if (conn.identity.role !== role) {
				conn.setIdentity({ ...conn.identity, role });
				const loaded = this.#rooms.get(roomName(conn.key));
				if (loaded?.room.conns.has(conn)) loaded.room.presence.restamp(conn);
			}
		}
		for (const listener of this.#roleListeners) {
			try {
				listener(change);
			} catch (err) {
				this.#logger.error({ err: String(err), workspace }, 'a role-change listener failed');
			}
		}
	}

	async #closeWorkspaceHere(workspace: WorkspaceId): Promise<void> {
		for (const conn of [...this.#connections]) {
			if (conn.key.workspace === workspace) conn.close(CloseCode.notFound, 'workspace deleted');
		}
		const rooms = [...this.#rooms.values()].filter((l) => l.room.deps.key.workspace === workspace);
		for (const loaded of rooms) {
			loaded.room.closeAll(CloseCode.notFound, 'workspace deleted');
			this.#rooms.delete(loaded.room.deps.name);
		}
		for (const loaded of rooms) {
			await loaded.room.drain();
			this.#drop(loaded);
		}
	}
}

function present(
	owner: Connection | typeof REMOTE_PRESENCE | undefined,
	state: Record<string, unknown>,
	awareness: Awareness,
	clientID: number
): PresentUser | null {
	const view =
		typeof state.current_view === 'string' &&
		(VIEWS as readonly string[]).includes(state.current_view)
			? (state.current_view as View)
			: 'dashboard';
	if (owner instanceof Connection) {
		const { id, name, email, color, role } = owner.identity;
		return { id, name, email, color, role, current_view: view, last_active: owner.lastActive };
	}
	if (owner !== REMOTE_PRESENCE) return null;
	const user = state.user as Record<string, unknown> | undefined;
	if (!user || typeof user.id !== 'string' || typeof user.name !== 'string' || !isRole(user.role))
		return null;
	return {
		id: user.id as UserId,
		name: user.name,
		// Other processes stamp id, name, color and role; the e-mail stays with the process that authenticated.
		email: '',
		color: typeof user.color === 'string' ? user.color : '',
		role: user.role,
		current_view: view,
		last_active: awareness.meta.get(clientID)?.lastUpdated ?? 0
	};
}
