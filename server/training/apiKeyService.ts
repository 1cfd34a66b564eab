// Workspace API keys for scripts: shown once at creation, stored as a hash, named,
// revocable. A key acts as the member who created it, and only while that member
// still may start training in the workspace.

import { hashApiKey, looksLikeApiKey, newApiKey } from '../auth/apiKeys.ts';
import { newId, type UserId, type WorkspaceId } from '../protocol/ids.ts';
import { hasPermission, type Permission } from '../protocol/roles.ts';
import type { Actor } from '../protocol/training.ts';
import type { Clock } from '../runtime.ts';
import type { ApiKey, Storage } from '../storage/types.ts';
import { notFound, TrainingError } from './errors.ts';

export interface ApiKeyInfo {
	id: string;
	name: string;
	created_at: number;
	created_by: string;
	revoked_at: number | null;
}

const info = (k: ApiKey): ApiKeyInfo => ({
	id: k.id,
	name: k.name,
	created_at: k.createdAt,
	created_by: k.createdBy,
	revoked_at: k.revokedAt
});

const unauthenticated = (message: string): TrainingError =>
	new TrainingError(401, 'unauthenticated', message);

export class ApiKeyService {
	readonly #storage: Storage;
	readonly #clock: Clock;

	constructor(storage: Storage, clock: Clock) {
		this.#storage = storage;
		this.#clock = clock;
	}

	async create(
		workspace: WorkspaceId,
		name: string,
		by: UserId
	): Promise<{ key: string; api_key: ApiKeyInfo }> {
		const key = newApiKey();
		const record: ApiKey = {
			id: newId(),
			workspace,
			name,
			keyHash: hashApiKey(key),
			createdBy: by,
			createdAt: this.#clock.now(),
			revokedAt: null
		};
		await this.#storage.createApiKey(record);
		return { key, api_key: info(record) };
	}

	async list(workspace: WorkspaceId): Promise<ApiKeyInfo[]> {
		return (await this.#storage.listApiKeys(workspace)).map(info);
	}

	async revoke(workspace: WorkspaceId, id: string): Promise<void> {
		if (!(await this.#storage.revokeApiKey(workspace, id, this.#clock.now()))) {
			throw notFound(`No active API key with id "${id}" in this workspace.`);
		}
	}

	/**
	 * The workspace and actor a bearer key stands for: 401 for an unknown or revoked
	 * key, 403 for another workspace's key or a creator who lost the permission.
	 */
	async authenticate(
		token: string,
		workspace: WorkspaceId,
		permission: Permission
	): Promise<{ actor: Actor; userId: UserId; keyId: string }> {
		const key = looksLikeApiKey(token)
			? await this.#storage.getApiKeyByHash(hashApiKey(token))
			: null;
		if (!key)
			throw unauthenticated('Unknown API key: check the key, or create one in the workspace.');
		if (key.revokedAt !== null) throw unauthenticated(`The API key "${key.name}" was revoked.`);
		if (key.workspace !== workspace) {
			throw new TrainingError(403, 'forbidden', 'This API key belongs to another workspace.');
		}
		const member = await this.#storage.getMember(workspace, key.createdBy);
		if (!member || !hasPermission(member.role, permission)) {
			throw new TrainingError(
				403,
				'forbidden',
				`The member who created the API key "${key.name}" no longer has the ${permission} permission here.`
			);
		}
		const user = await this.#storage.getUserById(key.createdBy);
		const name = `${user?.name ?? 'unknown'} (API key "${key.name}")`;
		return { actor: { id: key.createdBy, name }, userId: key.createdBy, keyId: key.id };
	}
}
