// Records for the storage tests: users, workspaces and updates with fixed times.

import type { RoomName } from '../../server/protocol/docs.ts';
import type { UserId, WorkspaceId } from '../../server/protocol/ids.ts';
import type { EnsembleStorage } from '../../server/storage/common.ts';
import type { UpdateRecord, User } from '../../server/storage/types.ts';

export const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

let counter = 0;
/** Ids unique within a run, readable in failures. */
export function uid(prefix: string): string {
	counter += 1;
	return `${prefix}${counter}${Math.random().toString(36).slice(2, 8)}`;
}

export function user(overrides: Partial<User> = {}): User {
	const id = uid('u') as UserId;
	return {
		id,
		name: `User ${id}`,
		email: `${id}@example.com`,
		passwordHash: `scrypt$${id}`,
		createdAt: T0,
		...overrides
	};
}

export function room(workspace: WorkspaceId, doc = 'params'): RoomName {
	return `${workspace}/${doc}` as RoomName;
}

export function record(
	roomName: RoomName,
	n: number,
	author: UserId | null = null,
	size = 8
): UpdateRecord {
	const update = new Uint8Array(size);
	for (let i = 0; i < size; i++) update[i] = (n * 31 + i) & 255;
	return { room: roomName, update, author, at: T0 + n };
}

/** A user and a workspace they own, created in the store. */
export async function ownedWorkspace(
	storage: EnsembleStorage,
	name = 'Lab'
): Promise<{ owner: User; workspace: WorkspaceId }> {
	const owner = user();
	await storage.createUser(owner);
	const workspace = uid('w') as WorkspaceId;
	await storage.createWorkspace({ id: workspace, name, createdAt: T0 }, owner.id);
	return { owner, workspace };
}
