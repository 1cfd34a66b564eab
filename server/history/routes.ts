// History's endpoints (issue 13) as one Fastify plugin: the activity feed, the
// workspace at a moment, restore, and the transcript. Member changes made through
// the members API are recorded as activity by a response hook, so the routes of
// other parts need not know history exists.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../api/context.ts';
import { currentUser, requireMember } from '../api/authn.ts';
import { errorBody, makeErrorHandler } from '../api/errors.ts';
import { errors, Id, iso, WorkspaceParams } from '../api/schemas.ts';
import { parseUserId, parseWorkspaceId, type UserId } from '../protocol/ids.ts';
import { hasPermission } from '../protocol/roles.ts';
import { ACTIVITY_KINDS } from './describe.ts';
import { HistoryError, type HistoryService } from './service.ts';
import { transcriptRoutes } from './transcript.ts';
import { entryJson, namesOf, parseMoment } from './json.ts';

export const ActivityEntrySchema = Type.Object({
	id: Type.String(),
	at: Type.String({ format: 'date-time' }),
	user: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
	kind: Type.String({ description: ACTIVITY_KINDS.join(', ') }),
	summary: Type.String({ description: 'In words, e.g. "Alice set learning_rate 0.01 → 0.1"' }),
	data: Type.Record(Type.String(), Type.Unknown(), {
		description: 'What it is about: field, file and line, run, data set…'
	})
});

const ActivityQuerySchema = Type.Object({
	limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
	before: Type.Optional(Type.String({ pattern: '^[0-9a-z]{1,40}$' })),
	user: Type.Optional(Id),
	kind: Type.Optional(
		Type.String({ description: 'One kind or several, comma-separated', maxLength: 400 })
	)
});

const Moment = Type.String({
	description: 'An ISO 8601 time, e.g. 2026-12-05T14:03:00Z',
	minLength: 1,
	maxLength: 40
});

const PastStateSchema = Type.Object({
	at: Type.String({ format: 'date-time' }),
	hyperparameters: Type.Record(Type.String(), Type.Unknown()),
	config: Type.Record(Type.String(), Type.Unknown()),
	files: Type.Record(Type.String(), Type.String()),
	seqs: Type.Object({ params: Type.Integer(), code: Type.Integer() })
});

const ChangeSchema = Type.Object({
	doc: Type.Union([Type.Literal('params'), Type.Literal('code')]),
	seq: Type.Integer(),
	at: Type.String({ format: 'date-time' }),
	user: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()])
});

const RestoreBody = Type.Object(
	{
		at: Moment,
		scope: Type.Union([
			Type.Literal('hyperparameters'),
			Type.Literal('files'),
			Type.Literal('file')
		]),
		file: Type.Optional(Type.String({ minLength: 1, maxLength: 200 }))
	},
	{ additionalProperties: false }
);

function historyRoutes(app: FastifyInstance, ctx: AppContext, history: HistoryService): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();

	api.get(
		'/api/workspaces/:id/activity',
		{
			schema: {
				tags: ['history'],
				summary: 'The activity feed, newest first, paged with `before` (any member)',
				params: WorkspaceParams,
				querystring: ActivityQuerySchema,
				response: {
					200: Type.Object({
						entries: Type.Array(ActivityEntrySchema),
						next_before: Type.Union([Type.String(), Type.Null()])
					}),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const { workspace } = await requireMember(ctx, request, request.params.id, 'view_workspace');
			const q = request.query;
			const kinds = q.kind
				? q.kind
						.split(',')
						.map((k) => k.trim())
						.filter(Boolean)
				: undefined;
			const unknown = kinds?.filter((k) => !(ACTIVITY_KINDS as readonly string[]).includes(k));
			if (unknown?.length)
				throw new HistoryError(
					400,
					'bad_kind',
					`Unknown kind "${unknown[0]}"; kinds are ${ACTIVITY_KINDS.join(', ')}.`
				);
			const limit = q.limit ?? 50;
			const entries = await history.activity(workspace.id, {
				limit,
				before: q.before,
				user: q.user as UserId | undefined,
				kinds
			});
			const names = await namesOf(
				ctx,
				entries.map((e) => e.user)
			);
			return {
				entries: entries.map((e) => entryJson(e, names)),
				next_before: entries.length === limit ? entries[entries.length - 1]!.id : null
			};
		}
	);

	api.get(
		'/api/workspaces/:id/history',
		{
			schema: {
				tags: ['history'],
				summary: 'The hyperparameters and code files as they were at a moment (any member)',
				params: WorkspaceParams,
				querystring: Type.Object({ at: Moment }),
				response: { 200: PastStateSchema, ...errors(400, 401, 403, 404, 410) }
			}
		},
		async (request) => {
			const { workspace } = await requireMember(ctx, request, request.params.id, 'view_workspace');
			const state = await history.stateAt(workspace, parseMoment(request.query.at));
			return { ...state, at: iso(state.at) };
		}
	);

	api.get(
		'/api/workspaces/:id/history/changes',
		{
			schema: {
				tags: ['history'],
				summary:
					'Every stored change of the hyperparameters and code, newest first, for a time slider',
				params: WorkspaceParams,
				querystring: Type.Object({
					limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 2000 }))
				}),
				response: {
					200: Type.Object({ changes: Type.Array(ChangeSchema), created_at: Type.String() }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const { workspace } = await requireMember(ctx, request, request.params.id, 'view_workspace');
			const limit = request.query.limit ?? 2000;
			const lists = await Promise.all(
				(['params', 'code'] as const).map(async (doc) =>
					(await ctx.storage.history(`${workspace.id}/${doc}`, { limit })).map((h) => ({
						doc,
						...h
					}))
				)
			);
			const all = lists
				.flat()
				.sort((a, b) => b.at - a.at || b.seq - a.seq)
				.slice(0, limit);
			const names = await namesOf(
				ctx,
				all.map((c) => c.author)
			);
			return {
				created_at: iso(workspace.createdAt),
				changes: all.map((c) => ({
					doc: c.doc,
					seq: c.seq,
					at: iso(c.at),
					user: c.author === null ? null : { id: c.author, name: names.get(c.author) ?? 'Someone' }
				}))
			};
		}
	);

	api.post(
		'/api/workspaces/:id/restore',
		{
			schema: {
				tags: ['history'],
				summary:
					'Restore the hyperparameters, all code files or one file to a moment (owner, editor)',
				params: WorkspaceParams,
				body: RestoreBody,
				response: {
					200: Type.Object({ changed: Type.Array(Type.String()), entry: ActivityEntrySchema }),
					...errors(400, 401, 403, 404, 410)
				}
			}
		},
		async (request) => {
			const { scope, file } = request.body;
			const access = await requireMember(ctx, request, request.params.id, 'view_workspace');
			const permission = scope === 'hyperparameters' ? 'edit_hyperparameters' : 'edit_code';
			if (!hasPermission(access.role, permission)) {
				throw new HistoryError(
					403,
					'forbidden',
					`Your role (${access.role}) can browse history but not restore ${scope === 'hyperparameters' ? 'hyperparameters' : 'code'}; ask an editor or the owner.`
				);
			}
			const { workspace, user } = access;
			const at = parseMoment(request.body.at);
			const result = await history.restore(workspace, user, at, scope, file);
			const names = new Map([[user.id, user.name]]);
			return { changed: result.changed, entry: entryJson(result.entry, names) };
		}
	);
}

/** Member changes through the members API become activity (HIST7). */
function memberEvents(app: FastifyInstance, ctx: AppContext, history: HistoryService): void {
	app.addHook('onResponse', async (request, reply) => {
		const route = request.routeOptions.url;
		const ok = reply.statusCode >= 200 && reply.statusCode < 300;
		if (!ok || !route?.startsWith('/api/workspaces/:id/')) return;
		const params = request.params as { id?: string; userId?: string };
		const workspace = parseWorkspaceId(params.id ?? '');
		if (!workspace) return;
		try {
			if (request.method === 'POST' && route === '/api/workspaces/:id/join') {
				const user = await currentUser(ctx, request);
				const member = user && (await ctx.storage.getMember(workspace, user.id));
				if (user && member)
					await history.record(workspace, user.id, user.name, 'member_joined', {
						role: member.role
					});
			} else if (route === '/api/workspaces/:id/members/:userId') {
				const actor = await currentUser(ctx, request);
				const target = parseUserId(params.userId ?? '');
				if (!actor || !target) return;
				const targetName = (await ctx.storage.getUserById(target))?.name ?? 'someone';
				if (request.method === 'PATCH') {
					const role = (request.body as { role?: string } | undefined)?.role;
					await history.record(workspace, actor.id, actor.name, 'role_changed', {
						target,
						target_name: targetName,
						role
					});
				} else if (request.method === 'DELETE') {
					await history.record(workspace, actor.id, actor.name, 'member_left', {
						target,
						target_name: target === actor.id ? null : targetName
					});
				}
			}
		} catch (err) {
			ctx.logger.warn({ err: String(err), route }, 'recording a member event failed');
		}
	});
}

export interface HistoryRoutesOptions {
	readonly ctx: AppContext;
	readonly history: HistoryService;
}

const historyPluginRoutes: FastifyPluginAsync<HistoryRoutesOptions> = async (
	app,
	{ ctx, history }
) => {
	const fallback = makeErrorHandler(ctx.logger);
	app.setErrorHandler((error: Error, request, reply) => {
		if (error instanceof HistoryError)
			return reply.status(error.status).send(errorBody(error.code, error.message));
		return fallback(error, request, reply);
	});
	historyRoutes(app, ctx, history);
	transcriptRoutes(app, ctx, history);
	await Promise.resolve();
};

/** In the shape of buildApp's `plugins` option. */
export function historyPlugin(
	ctx: AppContext,
	history: HistoryService
): (app: FastifyInstance) => Promise<void> {
	return async (app) => {
		memberEvents(app, ctx, history);
		await app.register(historyPluginRoutes, { ctx, history });
	};
}
