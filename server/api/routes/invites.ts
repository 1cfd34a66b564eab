// The seed's invite and join endpoints, with tokens that are random, hashed,
// single-use, bound to a workspace and role, and expire.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { listeningUrl } from '../../config.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { INVITE_PROBLEMS } from '../../auth/invites.ts';
import { parseWorkspaceId } from '../../protocol/ids.ts';
import { normalizeEmail } from '../../auth/accounts.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireMember, requireUser, loadWorkspace } from '../authn.ts';
import { Email, errors, iso, RoleSchema, WorkspaceParams } from '../schemas.ts';

const DAY = 24 * 60 * 60 * 1000;

/**
 * Where the app's join page is reached: PUBLIC_URL, or the address this process
 * listens on. Never the request's Host header: the sender chooses it, and a
 * link (or an e-mail) pointing elsewhere would hand the token to that host (SEC5).
 */
function baseUrl(ctx: AppContext, app: FastifyInstance): string {
	const address = app.server.address();
	const port = typeof address === 'object' && address ? address.port : ctx.config.port;
	return ctx.config.publicUrl ?? listeningUrl(ctx.config.host, port);
}

export function inviteRoutes(app: FastifyInstance, ctx: AppContext): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();

	api.post(
		'/api/workspaces/:id/invite',
		{
			schema: {
				tags: ['members'],
				summary: 'Invite someone by e-mail (owner)',
				description:
					'Returns the single-use token and link; with SMTP_URL set the link is also e-mailed (`emailed`).',
				params: WorkspaceParams,
				body: Type.Object({
					email: Email,
					role: Type.Union([Type.Literal('editor'), Type.Literal('viewer')]),
					expires_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 }))
				}),
				response: {
					200: Type.Object({
						invite_token: Type.String(),
						invite_url: Type.String(),
						expires_at: Type.String({ format: 'date-time' }),
						emailed: Type.Boolean()
					}),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const { workspace, user } = await requireMember(
				ctx,
				request,
				request.params.id,
				'invite_users'
			);
			const { email, role, expires_in_days } = request.body;
			const ttlMs = expires_in_days !== undefined ? expires_in_days * DAY : ctx.config.inviteTtlMs;
			const invite = await ctx.invites.create({
				workspace: workspace.id,
				email: normalizeEmail(email),
				role,
				createdBy: user.id,
				ttlMs
			});
			const url = `${baseUrl(ctx, app)}/workspace/${workspace.id}/join?token=${invite.token}`;
			const emailed = await ctx.mailer.sendInvitation({
				to: email,
				workspaceName: workspace.name,
				inviterName: user.name,
				role,
				url,
				expiresAt: invite.expiresAt
			});
			ctx.logger.info(
				{ workspace: workspace.id, by: user.id, role, emailed },
				'invitation created'
			);
			return {
				invite_token: invite.token,
				invite_url: url,
				expires_at: iso(invite.expiresAt),
				emailed
			};
		}
	);

	api.get(
		'/api/workspaces/:id/invite-preview',
		{
			schema: {
				tags: ['members'],
				summary: 'What an invitation is for (no sign-in: the token is the credential)',
				description:
					'The workspace name, who invited, the role and the invited e-mail, for the join page. Any refusal is the same 400 as joining would give; nothing is revealed for a bad token.',
				params: WorkspaceParams,
				querystring: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }),
				response: {
					200: Type.Object({
						workspace: Type.Object({ id: Type.String(), name: Type.String() }),
						invited_by: Type.String(),
						role: RoleSchema,
						email: Type.String(),
						expires_at: Type.String({ format: 'date-time' })
					}),
					...errors(400)
				}
			}
		},
		async (request) => {
			const workspace = parseWorkspaceId(request.params.id);
			if (!workspace) throw new ApiError(400, 'invite_invalid', INVITE_PROBLEMS.invite_invalid);
			const result = await ctx.invites.preview(request.query.token, workspace);
			if (!result.ok) throw new ApiError(400, result.problem, INVITE_PROBLEMS[result.problem]);
			const { preview } = result;
			return {
				workspace: preview.workspace,
				invited_by: preview.invitedBy,
				role: preview.role,
				email: preview.email,
				expires_at: iso(preview.expiresAt)
			};
		}
	);

	api.post(
		'/api/workspaces/:id/join',
		{
			schema: {
				tags: ['members'],
				summary: 'Join a workspace with an invitation token (signed in)',
				params: WorkspaceParams,
				querystring: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }),
				response: {
					200: Type.Object({ status: Type.Literal('joined'), role: RoleSchema }),
					...errors(400, 401, 404)
				}
			}
		},
		async (request) => {
			const user = await requireUser(ctx, request);
			const workspace = await loadWorkspace(ctx.storage, request.params.id);
			const accepted = await ctx.invites.accept(request.query.token, workspace.id, user.id);
			if (!accepted.ok)
				throw new ApiError(400, accepted.problem, INVITE_PROBLEMS[accepted.problem]);
			ctx.logger.info(
				{ workspace: workspace.id, user: user.id, role: accepted.role },
				'joined by invitation'
			);
			return { status: 'joined' as const, role: accepted.role };
		}
	);
}
