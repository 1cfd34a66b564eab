// The seed's read endpoints: who is connected now, and the workspace state
// (hyperparameters, algorithm, training status) read from the shared documents.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { schema } from '../../protocol/docs.ts';
import type { WorkspaceId } from '../../protocol/ids.ts';
import type { AppContext } from '../context.ts';
import type { PresentUser } from '../../relay/api.ts';
import { requireMember } from '../authn.ts';
import { errors, iso, RoleSchema, WorkspaceParams } from '../schemas.ts';

const PresentUserSchema = Type.Object({
	id: Type.String(),
	name: Type.String(),
	email: Type.String(),
	color: Type.String(),
	role: RoleSchema,
	current_view: Type.String(),
	last_active: Type.String({ format: 'date-time' })
});

const Json = Type.Unknown();

const StateSchema = Type.Object({
	state: Type.Object(
		{
			hyperparameters: Type.Record(Type.String(), Json),
			config: Type.Record(Type.String(), Json),
			selected_algorithm: Type.Union([Type.String(), Type.Null()]),
			training_status: Type.String(),
			current_run: Type.Union([Type.String(), Type.Null()])
		},
		{ additionalProperties: true }
	),
	active_users: Type.Integer()
});

/** Everyone connected now, over Yjs or the seed's JSON protocol, once each. */
function presentUsers(ctx: AppContext, workspace: WorkspaceId): PresentUser[] {
	const byId = new Map<string, PresentUser>();
	for (const user of [
		...ctx.relay.presentUsers(workspace),
		...(ctx.compat?.presentUsers(workspace) ?? [])
	]) {
		const seen = byId.get(user.id);
		if (!seen || user.last_active > seen.last_active) byId.set(user.id, user);
	}
	return [...byId.values()];
}

async function readState(ctx: AppContext, workspace: WorkspaceId) {
	const params = await ctx.relay.open({ workspace, doc: 'params' });
	try {
		const live = await ctx.relay.open({ workspace, doc: 'live' });
		try {
			const hyperparameters = params.doc.getMap(schema.params.hyperparameters).toJSON();
			const config: Record<string, unknown> = params.doc.getMap(schema.params.config).toJSON();
			const training = live.doc.getMap(schema.live.training);
			const algorithm = config.selected_algorithm ?? config.algorithm ?? null;
			const status = training.get('status');
			const currentRun = training.get('current_run');
			return {
				hyperparameters,
				config,
				selected_algorithm: typeof algorithm === 'string' ? algorithm : null,
				training_status: typeof status === 'string' ? status : 'idle',
				current_run: typeof currentRun === 'string' ? currentRun : null
			};
		} finally {
			live.release();
		}
	} finally {
		params.release();
	}
}

export function presenceRoutes(app: FastifyInstance, ctx: AppContext): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();

	api.get(
		'/api/workspaces/:id/users',
		{
			schema: {
				tags: ['seed'],
				summary: 'Members connected now, with their current view',
				params: WorkspaceParams,
				response: {
					200: Type.Object({ users: Type.Array(PresentUserSchema) }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const { workspace } = await requireMember(ctx, request, request.params.id, 'view_workspace');
			const users = presentUsers(ctx, workspace.id).map((u) => ({
				...u,
				last_active: iso(u.last_active)
			}));
			return { users };
		}
	);

	api.get(
		'/api/workspaces/:id/state',
		{
			schema: {
				tags: ['seed'],
				summary: 'Workspace state: hyperparameters, algorithm, training status',
				params: WorkspaceParams,
				response: { 200: StateSchema, ...errors(400, 401, 403, 404) }
			}
		},
		async (request) => {
			const { workspace } = await requireMember(ctx, request, request.params.id, 'view_workspace');
			return {
				state: await readState(ctx, workspace.id),
				active_users: presentUsers(ctx, workspace.id).length
			};
		}
	);
}
