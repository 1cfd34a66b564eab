// The debug endpoints. A script (workspace API key) registers a session, long-polls
// it for breakpoints and commands (each poll is its heartbeat) and reports where
// it paused; a signed-in owner or editor sends commands. A viewer is refused
// with a message that says viewers watch (DBG3).

import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../api/context.ts';
import { errorBody, makeErrorHandler } from '../api/errors.ts';
import { errors } from '../api/schemas.ts';
import { requireMember } from '../api/authn.ts';
import { hasPermission } from '../protocol/roles.ts';
import { userColor } from '../protocol/colors.ts';
import type { ApiKeyService } from '../training/apiKeyService.ts';
import { authorize } from '../training/http/auth.ts';
import { TrainingError } from '../training/errors.ts';
import { Id, WorkspaceParams } from '../training/http/schemas.ts';
import { CommandBody, CommandSchema, ResolvedBreakpointSchema, ScriptEvent } from './schemas.ts';
import type { DebugService } from './service.ts';

const tags = ['debug'];
const MAX_WAIT_S = 25;
const SessionParams = Type.Object({ id: Id, sessionId: Id });
const PollAnswer = Type.Object({
	status: Type.String(),
	breakpoints: Type.Array(ResolvedBreakpointSchema),
	version: Type.String({
		description: 'pass back as `version`: the breakpoints are sent when they change'
	}),
	commands: Type.Array(CommandSchema)
});

export interface DebugRoutesOptions {
	readonly ctx: AppContext;
	readonly service: DebugService;
	readonly keys: ApiKeyService;
}

const debugRoutes: FastifyPluginAsync<DebugRoutesOptions> = (instance, { ctx, service, keys }) => {
	const fallback = makeErrorHandler(ctx.logger);
	instance.setErrorHandler((error: Error, request, reply) => {
		if (error instanceof TrainingError) {
			return reply.status(error.status).send(errorBody(error.code, error.message));
		}
		return fallback(error, request, reply);
	});
	const app = instance.withTypeProvider<TypeBoxTypeProvider>();
	const scriptAuth = (request: Parameters<typeof authorize>[2], workspace: string) =>
		authorize(ctx, keys, request, workspace, 'start_training');

	app.post(
		'/api/workspaces/:id/debug/sessions',
		{
			schema: {
				tags,
				summary:
					'A script under the debugger registers (API key); answers its session id and the breakpoints',
				params: WorkspaceParams,
				body: Type.Object({
					file: Type.String({ minLength: 1, maxLength: 500 }),
					run: Type.Optional(Id),
					via: Type.Optional(Type.Union([Type.Literal('client'), Type.Literal('agent')]))
				}),
				response: {
					201: Type.Object({
						session: Type.String(),
						breakpoints: Type.Array(ResolvedBreakpointSchema),
						version: Type.String(),
						gone_after_s: Type.Number()
					}),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request, reply) => {
			const caller = await scriptAuth(request, request.params.id);
			const { file, run, via } = request.body;
			const session = await service.open(caller.workspace, {
				file,
				run: run ?? null,
				via: via ?? 'client'
			});
			session.lastSeen = ctx.clock.now();
			const { breakpoints, version } = session.breakpoints();
			return reply.status(201).send({
				session: session.id,
				breakpoints,
				version,
				gone_after_s: service.goneAfterMs / 1000
			});
		}
	);

	app.get(
		'/api/workspaces/:id/debug/sessions/:sessionId/poll',
		{
			schema: {
				tags,
				summary:
					"The script's long poll and heartbeat: new commands after `after`, and the breakpoints when they differ from `version`",
				params: SessionParams,
				querystring: Type.Object({
					after: Type.Integer({ minimum: 0, default: 0 }),
					version: Type.String({ maxLength: 64, default: '' }),
					wait_s: Type.Number({ minimum: 0, maximum: MAX_WAIT_S, default: 20 })
				}),
				response: { 200: PollAnswer, ...errors(400, 401, 403, 404, 409) }
			}
		},
		async (request) => {
			const caller = await scriptAuth(request, request.params.id);
			const session = await service.find(caller.workspace, request.params.sessionId);
			const { after, version, wait_s } = request.query;
			let closed = false;
			request.raw.once('close', () => (closed = true));
			session.polling++;
			session.lastSeen = ctx.clock.now();
			try {
				await session.wait(after, version, wait_s * 1000, () => closed);
			} finally {
				session.polling--;
				session.lastSeen = ctx.clock.now();
			}
			const current = session.breakpoints();
			return {
				status: session.state()?.status ?? 'gone',
				breakpoints: current.breakpoints,
				version: current.version,
				commands: session.commandsAfter(after)
			};
		}
	);

	app.post(
		'/api/workspaces/:id/debug/sessions/:sessionId/events',
		{
			schema: {
				tags,
				summary:
					'What the script reports: paused (where, stack, locals), running, an evaluation result, or ended',
				params: SessionParams,
				body: ScriptEvent,
				response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) }
			}
		},
		async (request, reply) => {
			const caller = await scriptAuth(request, request.params.id);
			const session = await service.find(caller.workspace, request.params.sessionId);
			await session.event(request.body);
			return reply.status(204).send(null);
		}
	);

	app.post(
		'/api/workspaces/:id/debug/sessions/:sessionId/commands',
		{
			schema: {
				tags,
				summary:
					'An owner or editor continues, steps, stops or evaluates an expression in the paused script; everyone sees it',
				params: SessionParams,
				body: CommandBody,
				response: {
					202: Type.Object({ command: CommandSchema }),
					...errors(400, 401, 403, 404, 409)
				}
			}
		},
		async (request, reply) => {
			const { user, workspace, role } = await requireMember(
				ctx,
				request,
				request.params.id,
				'view_workspace'
			);
			if (!hasPermission(role, 'start_training')) {
				throw new TrainingError(
					403,
					'forbidden',
					'Viewers watch: only owners and editors can continue, step, stop or evaluate in a paused script.'
				);
			}
			const command = await service.command(
				workspace.id,
				request.params.sessionId,
				{ id: user.id, name: user.name, color: userColor(user.id) },
				request.body.command,
				request.body.expression
			);
			return reply.status(202).send({ command });
		}
	);
	breakpointRoutes(instance, ctx, service, keys);
	return Promise.resolve();
};

function breakpointRoutes(
	instance: FastifyInstance,
	ctx: AppContext,
	service: DebugService,
	keys: ApiKeyService
): void {
	const app = instance.withTypeProvider<TypeBoxTypeProvider>();
	app.post(
		'/api/workspaces/:id/debug/breakpoints',
		{
			schema: {
				tags,
				summary:
					'Sets a shared breakpoint on a line of a code file (owners and editors; session or API key)',
				params: WorkspaceParams,
				body: Type.Object({
					file: Type.String({ minLength: 1, maxLength: 500 }),
					line: Type.Integer({ minimum: 1 }),
					condition: Type.Optional(Type.String({ maxLength: 2000 })),
					hit_count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 }))
				}),
				response: {
					201: Type.Object({ id: Type.String(), line: Type.Integer() }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request, reply) => {
			const caller = await authorize(ctx, keys, request, request.params.id, 'edit_code');
			const { file, line, condition, hit_count } = request.body;
			// Through an API key the breakpoint is the key's creator's, by their own name.
			const user = await ctx.storage.getUserById(caller.userId);
			const set = await service.setBreakpoint(
				caller.workspace,
				{
					id: caller.userId,
					name: user?.name ?? caller.actor.name,
					color: userColor(caller.userId)
				},
				file,
				line,
				{ condition, hitCount: hit_count }
			);
			return reply.status(201).send(set);
		}
	);

	app.delete(
		'/api/workspaces/:id/debug/breakpoints/:breakpointId',
		{
			schema: {
				tags,
				summary: 'Clears a shared breakpoint (owners and editors; session or API key)',
				params: Type.Object({ id: Id, breakpointId: Id }),
				response: { 204: Type.Null(), ...errors(401, 403, 404) }
			}
		},
		async (request, reply) => {
			const caller = await authorize(ctx, keys, request, request.params.id, 'edit_code');
			await service.clearBreakpoint(
				caller.workspace,
				{ id: caller.userId, name: caller.actor.name },
				request.params.breakpointId
			);
			return reply.status(204).send(null);
		}
	);

	app.get(
		'/api/workspaces/:id/debug/sessions',
		{
			schema: {
				tags,
				summary:
					"The workspace's debug sessions as everyone sees them (live in the `live` document's `debug` map)",
				params: WorkspaceParams,
				response: {
					200: Type.Object({ sessions: Type.Array(Type.Record(Type.String(), Type.Unknown())) }),
					...errors(401, 403, 404)
				}
			}
		},
		async (request) => {
			const caller = await authorize(ctx, keys, request, request.params.id, 'view_workspace');
			return {
				sessions: (await service.sessions(caller.workspace)) as unknown as Record<string, unknown>[]
			};
		}
	);
}

/** The routes in the shape of buildApp's `plugins` option. */
export function debugPlugin(
	ctx: AppContext,
	service: DebugService,
	keys: ApiKeyService
): (app: FastifyInstance) => Promise<void> {
	return async (app) => {
		await app.register(debugRoutes, { ctx, service, keys });
	};
}
