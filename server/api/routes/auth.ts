// Sign-up, sign-in, sign-out and the current user.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { checkPassword, createAccount } from '../../auth/accounts.ts';
import { INVITE_PROBLEMS } from '../../auth/invites.ts';
import { SESSION_COOKIE } from '../../auth/sessions.ts';
import { userColor } from '../../protocol/colors.ts';
import type { User } from '../../storage/types.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { clearSessionCookie, requireUser, setSessionCookie } from '../authn.ts';
import { Email, errors, Password, PersonName, RoleSchema, UserSchema } from '../schemas.ts';

export function publicUser(user: User) {
	return { id: user.id, name: user.name, email: user.email, color: userColor(user.id) };
}

const UserResponse = Type.Object({
	user: UserSchema,
	joined: Type.Optional(Type.Object({ workspace: Type.String(), role: RoleSchema }))
});

export function authRoutes(
	app: FastifyInstance,
	ctx: AppContext,
	authRateLimit: object | false
): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();

	api.post(
		'/api/auth/signup',
		{
			config: { rateLimit: authRateLimit },
			schema: {
				tags: ['auth'],
				summary: 'Create an account and sign in',
				description:
					"With SIGNUP=invite-only, `invite_token` is required; with it, the new account also joins the invitation's workspace.",
				body: Type.Object({
					name: PersonName,
					email: Email,
					password: Password,
					invite_token: Type.Optional(Type.String({ minLength: 1, maxLength: 200 }))
				}),
				response: { 201: UserResponse, ...errors(400, 403, 409, 429) }
			}
		},
		async (request, reply) => {
			const { name, email, password, invite_token } = request.body;
			if (invite_token !== undefined) {
				const checked = await ctx.invites.check(invite_token, null);
				if (!checked.ok) throw new ApiError(400, checked.problem, INVITE_PROBLEMS[checked.problem]);
			} else if (ctx.config.signup === 'invite-only') {
				throw new ApiError(
					403,
					'signup_closed',
					'Sign-up needs an invitation on this server (invite_token).'
				);
			}
			const created = await createAccount(ctx.storage, ctx.clock, { name, email, password });
			if (!created.ok) {
				throw new ApiError(
					created.problem === 'email_taken' ? 409 : 400,
					created.problem,
					created.message
				);
			}
			let joined: { workspace: string; role: 'owner' | 'editor' | 'viewer' } | undefined;
			if (invite_token !== undefined) {
				const accepted = await ctx.invites.accept(invite_token, null, created.user.id);
				// The account exists either way; a lost race on the invitation is reported, not hidden.
				if (!accepted.ok)
					throw new ApiError(400, accepted.problem, INVITE_PROBLEMS[accepted.problem]);
				joined = { workspace: accepted.workspace, role: accepted.role };
			}
			const session = await ctx.sessions.create(created.user.id);
			setSessionCookie(ctx, request, reply, session.token, session.expiresAt);
			ctx.logger.info({ user: created.user.id }, 'account created');
			return reply.status(201).send({ user: publicUser(created.user), joined });
		}
	);

	api.post(
		'/api/auth/login',
		{
			config: { rateLimit: authRateLimit },
			schema: {
				tags: ['auth'],
				summary: 'Sign in',
				body: Type.Object({
					email: Email,
					password: Type.String({ minLength: 1, maxLength: 1024 })
				}),
				response: { 200: UserResponse, ...errors(400, 401, 429) }
			}
		},
		async (request, reply) => {
			const { email, password } = request.body;
			const wait = ctx.signInLimiter.retryAfter(email, request.ip);
			if (wait > 0) {
				const seconds = Math.ceil(wait / 1000);
				throw new ApiError(
					429,
					'too_many_attempts',
					`Too many failed sign-ins; try again in ${seconds} s.`,
					{ 'retry-after': String(seconds) }
				);
			}
			const user = await checkPassword(ctx.storage, email, password);
			if (!user) {
				ctx.signInLimiter.failed(email, request.ip);
				throw new ApiError(401, 'wrong_credentials', 'Wrong e-mail or password.');
			}
			ctx.signInLimiter.succeeded(email, request.ip);
			const session = await ctx.sessions.create(user.id);
			setSessionCookie(ctx, request, reply, session.token, session.expiresAt);
			return { user: publicUser(user) };
		}
	);

	api.post(
		'/api/auth/logout',
		{
			schema: {
				tags: ['auth'],
				summary: 'Sign out (ends this session)',
				response: { 204: Type.Null() }
			}
		},
		async (request, reply) => {
			const ended = await ctx.sessions.destroy(request.cookies[SESSION_COOKIE]);
			// Its open sockets close now, and tokens issued in it stop opening new ones (SEC2).
			if (ended) await ctx.sessionSockets.end(ended);
			clearSessionCookie(reply);
			return reply.status(204).send(null);
		}
	);

	api.get(
		'/api/me',
		{
			schema: {
				tags: ['auth'],
				summary: 'The signed-in user',
				response: { 200: Type.Object({ user: UserSchema }), ...errors(401) }
			}
		},
		async (request) => ({ user: publicUser(await requireUser(ctx, request)) })
	);
}
