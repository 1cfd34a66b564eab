// Who is calling a training endpoint: a signed-in member (session cookie, checked
// by the API's own requireMember) or a script with a workspace API key
// (`Authorization: Bearer ens_…`), acting as the member who created the key.

import type { FastifyRequest } from 'fastify';
import { requireMember } from '../../api/authn.ts';
import type { AppContext } from '../../api/context.ts';
import { parseWorkspaceId, type UserId, type WorkspaceId } from '../../protocol/ids.ts';
import type { Permission } from '../../protocol/roles.ts';
import type { Actor } from '../../protocol/training.ts';
import type { ApiKeyService } from '../apiKeyService.ts';
import { notFound, TrainingError } from '../errors.ts';

export interface Caller {
	readonly workspace: WorkspaceId;
	readonly actor: Actor;
	readonly userId: UserId;
	readonly via: 'session' | 'api_key';
}

function bearer(request: FastifyRequest): string | null {
	const header = request.headers.authorization;
	if (header === undefined) return null;
	const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
	if (!match?.[1]) {
		throw new TrainingError(
			401,
			'unauthenticated',
			'The Authorization header must be "Bearer <API key>".'
		);
	}
	return match[1];
}

export async function authorize(
	ctx: AppContext,
	keys: ApiKeyService,
	request: FastifyRequest,
	rawWorkspace: string,
	permission: Permission,
	options: { allowKey: boolean } = { allowKey: true }
): Promise<Caller> {
	const token = bearer(request);
	if (token !== null) {
		if (!options.allowKey) {
			throw new TrainingError(
				403,
				'forbidden',
				'This endpoint needs a signed-in member, not an API key.'
			);
		}
		const workspace = parseWorkspaceId(rawWorkspace);
		if (!workspace || !(await ctx.storage.getWorkspace(workspace))) {
			throw notFound(`No workspace with id "${rawWorkspace}".`);
		}
		const { actor, userId } = await keys.authenticate(token, workspace, permission);
		return { workspace, actor, userId, via: 'api_key' };
	}
	const { user, workspace } = await requireMember(ctx, request, rawWorkspace, permission);
	return {
		workspace: workspace.id,
		actor: { id: user.id, name: user.name },
		userId: user.id,
		via: 'session'
	};
}
