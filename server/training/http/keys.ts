// Workspace API keys (owners and editors): create (shown once), list, revoke.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errors } from '../../api/schemas.ts';
import type { AppContext } from '../../api/context.ts';
import type { TrainingService } from '../service.ts';
import { authorize } from './auth.ts';
import { ApiKeySchema, KeyParams, WorkspaceParams } from './schemas.ts';

const tags = ['training'];

export function keyRoutes(app: FastifyInstance, ctx: AppContext, service: TrainingService): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();
	// Keys manage keys only through a signed-in member: a leaked key cannot mint more.
	const member = (request: Parameters<typeof authorize>[2], id: string) =>
		authorize(ctx, service.apiKeys, request, id, 'start_training', { allowKey: false });

	api.post(
		'/api/workspaces/:id/api-keys',
		{
			schema: {
				tags,
				summary: 'Create a named API key; the key is in this response only',
				params: WorkspaceParams,
				body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) }),
				response: {
					201: Type.Object({ key: Type.String(), api_key: ApiKeySchema }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request, reply) => {
			const caller = await member(request, request.params.id);
			const created = await service.apiKeys.create(
				caller.workspace,
				request.body.name.trim(),
				caller.userId
			);
			ctx.logger.info(
				{ workspace: caller.workspace, key: created.api_key.id, by: caller.userId },
				'API key created'
			);
			return reply.status(201).send(created);
		}
	);

	api.get(
		'/api/workspaces/:id/api-keys',
		{
			schema: {
				tags,
				summary: 'The workspace API keys (without the keys themselves)',
				params: WorkspaceParams,
				response: {
					200: Type.Object({ api_keys: Type.Array(ApiKeySchema) }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const caller = await member(request, request.params.id);
			return { api_keys: await service.apiKeys.list(caller.workspace) };
		}
	);

	api.delete(
		'/api/workspaces/:id/api-keys/:keyId',
		{
			schema: {
				tags,
				summary: 'Revoke an API key (it is refused from then on)',
				params: KeyParams,
				response: { 204: Type.Null(), ...errors(400, 401, 403, 404) }
			}
		},
		async (request, reply) => {
			const caller = await member(request, request.params.id);
			await service.apiKeys.revoke(caller.workspace, request.params.keyId);
			ctx.logger.info(
				{ workspace: caller.workspace, key: request.params.keyId, by: caller.userId },
				'API key revoked'
			);
			return reply.status(204).send(null);
		}
	);
}
