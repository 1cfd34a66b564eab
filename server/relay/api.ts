// What the rest of the server sees of the relay. The HTTP layer authenticates an
// upgrade and hands the socket over; training and compat write through
// `write`/`open`, never around the relay, so everything is stored before it is
// relayed and every process sees it.

import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import type { DocKey, View } from '../protocol/docs.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';
import type { Role } from '../protocol/roles.ts';

/**
 * The minimal socket the server's WebSocket layers depend on (STYLE.md 4), with
 * what they send: `ws`'s WebSocket satisfies it; tests may pass in-memory pairs.
 */
export interface MinimalSocket<Outgoing> {
	readonly readyState: number;
	readonly bufferedAmount: number;
	send(data: Outgoing, cb?: (err?: Error) => void): void;
	close(code?: number, reason?: string): void;
	on(
		event: 'message',
		listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void
	): unknown;
	on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
	on(event: 'error', listener: (err: Error) => void): unknown;
}

/** The relay sends binary y-websocket frames. */
export type RelaySocket = MinimalSocket<Uint8Array>;

/** Who is on the other end, as authenticated at the upgrade. */
export interface Identity {
	readonly id: UserId;
	readonly name: string;
	readonly email: string;
	readonly color: string;
	readonly role: Role;
}

export interface ConnectOptions {
	/** Opted in to the `saved` acknowledgement (`?ack=1`). */
	readonly ack: boolean;
}

/** The awareness `user` field the relay stamps on every state. */
export interface StampedUser {
	readonly id: UserId;
	readonly name: string;
	readonly color: string;
	readonly role: Role;
}

/** One person present in a workspace, merged over their connections. */
export interface PresentUser {
	readonly id: UserId;
	readonly name: string;
	readonly email: string;
	readonly color: string;
	readonly role: Role;
	readonly current_view: View;
	/** ms since the epoch of their last message. */
	readonly last_active: number;
}

/** A member's new role in a workspace; null: removed. */
export interface RoleChange {
	readonly workspace: WorkspaceId;
	readonly user: UserId;
	readonly role: Role | null;
}

/** A loaded document kept in memory until released. */
export interface DocHandle {
	readonly doc: Y.Doc;
	readonly awareness: Awareness;
	release(): void;
}

export interface RelayApi {
	/** Takes over an authenticated socket for one document. */
	handleConnection(
		socket: RelaySocket,
		key: DocKey,
		identity: Identity,
		options: ConnectOptions
	): void;
	/**
	 * A member's role changed (or they were removed: role null). Open connections
	 * of that user in that workspace are downgraded, upgraded or closed with 4403
	 * at once, on every process.
	 */
	setMemberRole(workspace: WorkspaceId, user: UserId, role: Role | null): Promise<void>;
	/**
	 * Calls `listener` whenever a role change or removal reaches this process
	 * (made here or, through the bus, on another), after the relay's own
	 * connections have it: parts above the relay with connections of their own
	 * (compat) apply it to theirs (ACCESS4). Returns the unsubscribe function.
	 */
	onRoleChange(listener: (change: RoleChange) => void): () => void;
	/**
	 * Calls `listener` after updates of a document were stored by this process
	 * (history summarises them from storage; HIST3). Returns the unsubscribe function.
	 */
	onStored(listener: (key: DocKey) => void): () => void;
	/** The workspace was deleted: close its connections with 4404 and unload it. */
	closeWorkspace(workspace: WorkspaceId): Promise<void>;
	/**
	 * A server-side write: runs `change` in one transaction on the loaded document;
	 * the resulting update is stored (with `author`) before it is relayed, and the
	 * promise resolves once it is stored.
	 */
	write(key: DocKey, author: UserId | null, change: (doc: Y.Doc) => void): Promise<void>;
	/** Loads (or reuses) a document and keeps it loaded until `release()`. */
	open(key: DocKey): Promise<DocHandle>;
	/** People connected to the workspace now (for GET /api/workspaces/{id}/users). */
	presentUsers(workspace: WorkspaceId): PresentUser[];
	/** Counters for /metrics. */
	stats(): RelayStats;
	/** Stops accepting, flushes storage, closes connections with 1012. */
	close(): Promise<void>;
}

export interface RelayStats {
	readonly connections: number;
	readonly documentsLoaded: number;
	readonly updatesReceived: number;
	readonly updatesStored: number;
	readonly storeFailures: number;
	readonly messagesSent: number;
	readonly busMessagesIn: number;
	readonly busMessagesOut: number;
	readonly resyncs: number;
	/** Updates (or parts) dropped because they depended on changes the doc lacked (PENDING1, PENDING2). */
	readonly updatesHeldBack: number;
	/** Cold-loaded docs decoded into a Y.Doc (RELAY9: only when a write or a diff needs one). */
	readonly documentsBuilt: number;
}
