// Workspaces: create, list mine, read, rename, delete; WebSocket tokens.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { newId, type WorkspaceId } from '../../protocol/ids.ts';
import type { AppContext } from '../context.ts';
import { requireMember, requireUser } from '../authn.ts';
import { seedWorkspace } from '../seed.ts';
import { SESSION_COOKIE, sessionIdOf } from '../../auth/sessions.ts';
import { errors, iso, WorkspaceName, WorkspaceParams, WorkspaceSchema } from '../schemas.ts';

const WorkspaceResponse = Type.Object({ workspace: WorkspaceSchema });

export function workspaceRoutes(app: FastifyInstance, ctx: AppContext): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();

	api.post(
		'/api/workspaces',
		{
			schema: {
				tags: ['workspaces'],
				summary: 'Create a workspace (the creator is its owner)',
				body: Type.Object({ name: WorkspaceName }),
				response: { 201: WorkspaceResponse, ...errors(400, 401) }
			}
		},
		async (request, reply) => {
			const user = await requireUser(ctx, request);
			const workspace = {
				id: newId<WorkspaceId>(),
				name: request.body.name.trim(),
				createdAt: ctx.clock.now()
			};
			await ctx.storage.createWorkspace(workspace, user.id);
			await seedWorkspace(ctx.relay, workspace.id, user.id);
			ctx.logger.info({ workspace: workspace.id, user: user.id }, 'workspace created');
			return reply.status(201).send({
				workspace: {
					id: workspace.id,
					name: workspace.name,
					role: 'owner',
					created_at: iso(workspace.createdAt)
				}
			});
		}
	);

	api.get(
		'/api/workspaces',
		{
			schema: {
				tags: ['workspaces'],
				summary: 'Workspaces I am a member of',
				response: { 200: Type.Object({ workspaces: Type.Array(WorkspaceSchema) }), ...errors(401) }
			}
		},
		async (request) => {
			const user = await requireUser(ctx, request);
			const mine = await ctx.storage.listWorkspacesOf(user.id);
			return {
				workspaces: mine.map((w) => ({
					id: w.id,
					name: w.name,
					role: w.role,
					created_at: iso(w.createdAt)
				}))
			};
		}
	);

	api.get(
		'/api/workspaces/:id',
		{
			schema: {
				tags: ['workspaces'],
				summary: 'One workspace, with my role in it',
				params: WorkspaceParams,
				response: { 200: WorkspaceResponse, ...errors(400, 401, 403, 404) }
			}
		},
		async (request) => {
			const { workspace, role } = await requireMember(
				ctx,
				request,
				request.params.id,
				'view_workspace'
			);
			return {
				workspace: {
					id: workspace.id,
					name: workspace.name,
					role,
					created_at: iso(workspace.createdAt)
				}
			};
		}
	);

	api.patch(
		'/api/workspaces/:id',
		{
			schema: {
				tags: ['workspaces'],
				summary: 'Rename a workspace (owner)',
				params: WorkspaceParams,
				body: Type.Object({ name: WorkspaceName }),
				response: { 200: WorkspaceResponse, ...errors(400, 401, 403, 404) }
			}
		},
		async (request) => {
			const { workspace, role } = await requireMember(
				ctx,
				request,
				request.params.id,
				'manage_permissions'
			);
			const name = request.body.name.trim();
			await ctx.storage.renameWorkspace(workspace.id, name);
			return { workspace: { id: workspace.id, name, role, created_at: iso(workspace.createdAt) } };
		}
	);

	api.delete(
		'/api/workspaces/:id',
		{
			schema: {
				tags: ['workspaces'],
				summary: 'Delete a workspace with everything in it (owner)',
				params: WorkspaceParams,
				response: { 204: Type.Null(), ...errors(400, 401, 403, 404) }
			}
		},
		async (request, reply) => {
			const { workspace, user } = await requireMember(
				ctx,
				request,
				request.params.id,
				'manage_permissions'
			);
			// Connections first, so nobody keeps writing into a workspace being deleted.
			await ctx.relay.closeWorkspace(workspace.id);
			await ctx.compat?.closeWorkspace(workspace.id);
			await ctx.calls.closeWorkspace(workspace.id);
			await ctx.storage.deleteWorkspace(workspace.id);
			ctx.logger.info({ workspace: workspace.id, user: user.id }, 'workspace deleted');
			return reply.status(204).send(null);
		}
	);

	api.get(
		'/api/workspaces/:id/token',
		{
			schema: {
				tags: ['workspaces'],
				summary: 'A short-lived token for `?token=` on /ws/{workspace}/{doc}',
				params: WorkspaceParams,
				response: {
					200: Type.Object({
						token: Type.String(),
						expires_at: Type.String({ format: 'date-time' })
					}),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request, reply) => {
			const { user, workspace } = await requireMember(
				ctx,
				request,
				request.params.id,
				'view_workspace'
			);
			// requireMember found the session, so the cookie is there: the token is bound to it.
			const session = sessionIdOf(request.cookies[SESSION_COOKIE] ?? '');
			const { token, expiresAt } = await ctx.wsTokens.issue(user.id, workspace.id, session);
			void reply.header('cache-control', 'no-store');
			return { token, expires_at: iso(expiresAt) };
		}
	);
}
