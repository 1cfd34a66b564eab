// Row → record mappers shared by SQLite and PostgreSQL (column names are the same;
// pg returns bigint as strings and bytea as Buffers, so numbers and bytes are normalised).

import type { RoomName } from '../protocol/docs.ts';
import type { RunId, UserId, WorkspaceId } from '../protocol/ids.ts';
import type { Role } from '../protocol/roles.ts';
import { bytes, type RunningKey } from './common.ts';
import type {
	ActiveRun,
	ApiKey,
	Dataset,
	HistoryEntry,
	Invite,
	Member,
	Session,
	StoredUpdate,
	User,
	RunnerKind,
	SweepRow,
	Workspace
} from './types.ts';

type Row = Record<string, unknown>;

const str = (v: unknown): string => v as string;
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function blob(v: unknown): Uint8Array {
	if (!(v instanceof Uint8Array)) throw new TypeError('expected a binary column');
	return bytes(v);
}

export function blobOrNull(v: unknown): Uint8Array | null {
	return v === null || v === undefined ? null : blob(v);
}

export function maybe<T>(row: Row | undefined, map: (row: Row) => T): T | null {
	return row ? map(row) : null;
}

export function storedUpdate(room: RoomName, r: Row): StoredUpdate {
	return {
		room,
		seq: num(r.seq),
		author: (r.author ?? null) as UserId | null,
		at: num(r.at),
		update: blob(r.data)
	};
}

export function historyEntry(r: Row): HistoryEntry {
	return {
		seq: num(r.seq),
		author: (r.author ?? null) as UserId | null,
		at: num(r.at),
		bytes: num(r.bytes)
	};
}

export function user(r: Row): User {
	return {
		id: str(r.id) as UserId,
		name: str(r.name),
		email: str(r.email),
		passwordHash: str(r.password_hash),
		createdAt: num(r.created_at)
	};
}

export function session(r: Row): Session {
	return {
		tokenHash: str(r.token_hash),
		userId: str(r.user_id) as UserId,
		expiresAt: num(r.expires_at)
	};
}

export function workspace(r: Row): Workspace {
	return { id: str(r.id) as WorkspaceId, name: str(r.name), createdAt: num(r.created_at) };
}

export function member(r: Row): Member {
	return {
		workspace: str(r.workspace) as WorkspaceId,
		userId: str(r.user_id) as UserId,
		role: str(r.role) as Role,
		joinedAt: num(r.joined_at)
	};
}

export function invite(r: Row): Invite {
	return {
		tokenHash: str(r.token_hash),
		workspace: str(r.workspace) as WorkspaceId,
		email: str(r.email),
		role: str(r.role) as Role,
		createdBy: str(r.created_by) as UserId,
		expiresAt: num(r.expires_at),
		usedAt: numOrNull(r.used_at)
	};
}

export function apiKey(r: Row): ApiKey {
	return {
		id: str(r.id),
		workspace: str(r.workspace) as WorkspaceId,
		name: str(r.name),
		keyHash: str(r.key_hash),
		createdBy: str(r.created_by) as UserId,
		createdAt: num(r.created_at),
		revokedAt: numOrNull(r.revoked_at)
	};
}

export function dataset(r: Row): Dataset {
	return {
		id: str(r.id),
		workspace: str(r.workspace) as WorkspaceId,
		name: str(r.name),
		createdBy: (r.created_by ?? null) as UserId | null,
		createdAt: num(r.created_at),
		bytes: num(r.bytes)
	};
}

export function activeRun(r: Row): ActiveRun {
	return {
		workspace: str(r.workspace) as WorkspaceId,
		run: str(r.run) as RunId,
		runner: str(r.runner) as RunnerKind,
		agent: str(r.agent),
		state: str(r.state) === 'queued' ? 'queued' : 'running',
		owner: str(r.owner),
		claimedBy: str(r.claimed_by),
		queuedAt: num(r.queued_at),
		heartbeatAt: num(r.heartbeat_at),
		stopRequested: num(r.stop_requested) === 1 || r.stop_requested === true,
		requeue: num(r.requeue) === 1 || r.requeue === true,
		sweep: str(r.sweep)
	};
}

export function sweep(r: Row): SweepRow {
	return {
		workspace: str(r.workspace) as WorkspaceId,
		id: str(r.id),
		definition: str(r.definition),
		createdBy: str(r.created_by),
		createdAt: num(r.created_at),
		state: str(r.state) === 'stopped' ? 'stopped' : 'running',
		endedAt: numOrNull(r.ended_at)
	};
}

export function activeRunKey(r: Row): RunningKey {
	return {
		workspace: str(r.workspace) as WorkspaceId,
		runner: str(r.runner) as RunnerKind,
		claimedBy: str(r.claimed_by)
	};
}
