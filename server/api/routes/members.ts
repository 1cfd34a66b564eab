// Members and roles. The owner changes roles and removes members; anyone may
// leave; a workspace always keeps at least one owner. Every change reaches open
// connections at once through the relay.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { parseUserId, type WorkspaceId } from '../../protocol/ids.ts';
import { userColor } from '../../protocol/colors.ts';
import type { Role } from '../../protocol/roles.ts';
import type { Member } from '../../storage/types.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireMember } from '../authn.ts';
import {
	errors,
	iso,
	MemberParams,
	MemberSchema,
	RoleSchema,
	WorkspaceParams
} from '../schemas.ts';

async function memberView(ctx: AppContext, member: Member) {
	const user = await ctx.storage.getUserById(member.userId);
	return {
		id: member.userId,
		name: user?.name ?? '(deleted user)',
		email: user?.email ?? '',
		color: userColor(member.userId),
		role: member.role,
		joined_at: iso(member.joinedAt)
	};
}

async function targetMember(ctx: AppContext, workspace: WorkspaceId, raw: string): Promise<Member> {
	const id = parseUserId(raw);
	const member = id ? await ctx.storage.getMember(workspace, id) : null;
	if (!member)
		throw new ApiError(404, 'not_found', `User "${raw}" is not a member of this workspace.`);
	return member;
}

/** Refuses a change that would leave the workspace without an owner. */
async function keepAnOwner(
	ctx: AppContext,
	workspace: WorkspaceId,
	target: Member,
	next: Role | null
) {
	if (target.role !== 'owner' || next === 'owner') return;
	const owners = (await ctx.storage.listMembers(workspace)).filter((m) => m.role === 'owner');
	if (owners.length <= 1) {
		throw new ApiError(
			409,
			'last_owner',
			'A workspace needs at least one owner: make someone else owner first.'
		);
	}
}

export function memberRoutes(app: FastifyInstance, ctx: AppContext): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();

	api.get(
		'/api/workspaces/:id/members',
		{
			schema: {
				tags: ['members'],
				summary: 'Members of a workspace with their roles',
				params: WorkspaceParams,
				response: {
					200: Type.Object({ members: Type.Array(MemberSchema) }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const { workspace } = await requireMember(ctx, request, request.params.id, 'view_workspace');
			const members = await ctx.storage.listMembers(workspace.id);
			return { members: await Promise.all(members.map((m) => memberView(ctx, m))) };
		}
	);

	api.patch(
		'/api/workspaces/:id/members/:userId',
		{
			schema: {
				tags: ['members'],
				summary: "Change a member's role (owner)",
				params: MemberParams,
				body: Type.Object({ role: RoleSchema }),
				response: { 200: Type.Object({ member: MemberSchema }), ...errors(400, 401, 403, 404, 409) }
			}
		},
		async (request) => {
			const { workspace, user } = await requireMember(
				ctx,
				request,
				request.params.id,
				'manage_permissions'
			);
			const target = await targetMember(ctx, workspace.id, request.params.userId);
			const role = request.body.role;
			await keepAnOwner(ctx, workspace.id, target, role);
			const updated: Member = { ...target, role };
			await ctx.storage.putMember(updated);
			await ctx.relay.setMemberRole(workspace.id, target.userId, role);
			ctx.logger.info(
				{ workspace: workspace.id, by: user.id, member: target.userId, role },
				'role changed'
			);
			return { member: await memberView(ctx, updated) };
		}
	);

	api.delete(
		'/api/workspaces/:id/members/:userId',
		{
			schema: {
				tags: ['members'],
				summary: 'Remove a member (owner), or leave (yourself)',
				params: MemberParams,
				response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) }
			}
		},
		async (request, reply) => {
			const self = parseUserId(request.params.userId);
			const access = await requireMember(ctx, request, request.params.id, 'view_workspace');
			const leaving = self !== null && self === access.user.id;
			if (!leaving) await requireMember(ctx, request, request.params.id, 'manage_permissions');
			const target = await targetMember(ctx, access.workspace.id, request.params.userId);
			await keepAnOwner(ctx, access.workspace.id, target, null);
			await ctx.storage.removeMember(access.workspace.id, target.userId);
			await ctx.relay.setMemberRole(access.workspace.id, target.userId, null);
			ctx.logger.info(
				{ workspace: access.workspace.id, by: access.user.id, member: target.userId },
				'member removed'
			);
			return reply.status(204).send(null);
		}
	);
}
