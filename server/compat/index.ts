// The seed's JSON protocol at `/ws/workspace/{id}` (server/SPEC.md): the HTTP
// layer authenticates the upgrade and hands the socket over; this bridges it to
// the workspace's documents through the relay.

import { CloseCode } from '../protocol/closeCodes.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';
import { isRole, lowerRole, type Role } from '../protocol/roles.ts';
import type { Identity, PresentUser, RelayApi } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';
import {
	DEFAULT_COMPAT_LIMITS,
	JsonConnection,
	type CompatLimits,
	type JsonSocket
} from './connection.ts';
import { CompatRoom } from './room.ts';

export type { CompatLimits, JsonSocket } from './connection.ts';

export interface CompatOptions {
	readonly relay: RelayApi;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly limits?: Partial<CompatLimits>;
}

/** The seed's query parameter that may lower (never raise) the authenticated role. */
const ROLE_PARAM = 'user_role';
/** JSON client ids start above Yjs's 32-bit client ids, so the two never collide. */
const FIRST_CLIENT_ID = 2 ** 32;
/** How long close() waits for queued messages to JSON clients. */
const SETTLE_MS = 2000;

export class CompatServer {
	readonly #relay: RelayApi;
	readonly #clock: Clock;
	readonly #logger: Logger;
	readonly #limits: CompatLimits;
	readonly #rooms = new Map<
		WorkspaceId,
		{ promise: Promise<CompatRoom>; room: CompatRoom | null }
	>();
	#nextClientId = FIRST_CLIENT_ID + Math.floor(Math.random() * 2 ** 20);
	readonly #offRoles: () => void;
	#closed = false;

	constructor(options: CompatOptions) {
		this.#relay = options.relay;
		this.#clock = options.clock;
		this.#logger = options.logger.child({ component: 'compat' });
		this.#limits = { ...DEFAULT_COMPAT_LIMITS, ...options.limits };
		// Role changes made on any process reach this one through the relay (COMPAT14).
		this.#offRoles = this.#relay.onRoleChange(
			({ workspace, user, role }) => void this.#setMemberRole(workspace, user, role)
		);
	}

	handleConnection(
		socket: JsonSocket,
		workspace: WorkspaceId,
		identity: Identity,
		query: URLSearchParams
	): void {
		if (this.#closed) {
			socket.close(CloseCode.serviceRestart, 'server is shutting down');
			return;
		}
		// The seed let the client claim its id, name and role; here identity comes
		// from authentication, and `user_role` can only lower the role.
		const asked = query.get(ROLE_PARAM);
		const requested = isRole(asked) ? asked : null;
		const role = requested ? lowerRole(identity.role, requested) : identity.role;
		const conn = new JsonConnection(
			socket,
			{ ...identity, role },
			requested,
			this.#nextClientId++,
			{ limits: this.#limits, clock: this.#clock, logger: this.#logger }
		);
		void this.#join(conn, workspace);
	}

	/**
	 * People connected over the JSON protocol now (relay.presentUsers counts relay
	 * connections only): for GET /api/workspaces/{id}/users, merged by id.
	 */
	presentUsers(workspace: WorkspaceId): PresentUser[] {
		return this.#rooms.get(workspace)?.room?.presentUsers() ?? [];
	}

	/** A member's role changed, or they were removed (null): applied to open JSON connections at once. */
	async #setMemberRole(workspace: WorkspaceId, user: UserId, role: Role | null): Promise<void> {
		const room = await this.#rooms.get(workspace)?.promise.catch(() => null);
		room?.setMemberRole(user, role);
	}

	/** The workspace was deleted: its JSON connections close with 4404. */
	async closeWorkspace(workspace: WorkspaceId): Promise<void> {
		const room = await this.#rooms.get(workspace)?.promise.catch(() => null);
		if (!room) return;
		if (this.#rooms.get(workspace)?.room === room) this.#rooms.delete(workspace);
		room.closeAll(CloseCode.notFound, 'workspace deleted');
		room.dispose();
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.#offRoles();
		const rooms = await Promise.allSettled([...this.#rooms.values()].map((e) => e.promise));
		this.#rooms.clear();
		for (const r of rooms) {
			if (r.status !== 'fulfilled') continue;
			// Let stored edits reach their JSON clients, but do not hang on a store that is down.
			await Promise.race([
				r.value.settled(),
				new Promise((resolve) => setTimeout(resolve, SETTLE_MS).unref())
			]);
			r.value.closeAll(CloseCode.serviceRestart, 'server restarting');
			r.value.dispose();
		}
	}

	async #join(conn: JsonConnection, workspace: WorkspaceId): Promise<void> {
		// A room may be disposed between loading and joining (its last client left): retry.
		for (let attempt = 0; attempt < 3; attempt++) {
			let room: CompatRoom;
			try {
				room = await this.#room(workspace);
			} catch (err) {
				this.#logger.error(
					{ err: String(err), workspace },
					'loading a workspace for compat failed'
				);
				conn.close(CloseCode.internalError, 'could not load the workspace');
				return;
			}
			if (conn.closed) {
				if (room.conns.size === 0) this.#forget(room);
				return;
			}
			if (this.#closed) {
				conn.close(CloseCode.serviceRestart, 'server is shutting down');
				return;
			}
			if (room.add(conn)) return;
		}
		conn.close(CloseCode.tryAgainLater, 'workspace busy; try again');
	}

	#room(workspace: WorkspaceId): Promise<CompatRoom> {
		const existing = this.#rooms.get(workspace);
		if (existing) return existing.promise;
		const entry: { promise: Promise<CompatRoom>; room: CompatRoom | null } = {
			promise: CompatRoom.open(workspace, {
				relay: this.#relay,
				clock: this.#clock,
				logger: this.#logger,
				limits: this.#limits,
				onEmpty: (r) => this.#forget(r)
			}),
			room: null
		};
		this.#rooms.set(workspace, entry);
		entry.promise.then(
			(room) => {
				entry.room = room;
			},
			() => {
				if (this.#rooms.get(workspace) === entry) this.#rooms.delete(workspace);
			}
		);
		return entry.promise;
	}

	#forget(room: CompatRoom): void {
		if (this.#rooms.get(room.workspace)?.room === room) this.#rooms.delete(room.workspace);
		room.dispose();
	}
}
