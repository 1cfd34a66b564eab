// The transcript of a span (HIST8): chat, activity, runs (hyperparameters, final
// metrics, a link to the code as it was when each started) and annotations, in
// time order, as Markdown a person reads as a session's minutes, or as JSON.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as Y from 'yjs';
import type { AppContext } from '../api/context.ts';
import { requireMember } from '../api/authn.ts';
import { errors, iso, WorkspaceParams } from '../api/schemas.ts';
import { schema } from '../protocol/docs.ts';
import type { Annotation, RunRecord } from '../protocol/training.ts';
import type { ActivityRecord } from '../storage/types.ts';
import { entryJson, namesOf, parseMoment } from './json.ts';
import { HistoryError, type HistoryService } from './service.ts';

/** Entries that the runs and annotations of the transcript already tell. */
const TOLD_ELSEWHERE = new Set(['run_started', 'run_finished', 'annotation_added']);
const MAX_ITEMS = 20_000;

const ItemSchema = Type.Object({
	at: Type.String({ format: 'date-time' }),
	type: Type.Union([
		Type.Literal('chat'),
		Type.Literal('activity'),
		Type.Literal('run'),
		Type.Literal('annotation')
	]),
	user: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
	text: Type.String({ description: 'The item in words (chat: the message)' }),
	kind: Type.Optional(Type.String()),
	run: Type.Optional(
		Type.Object({
			id: Type.String(),
			name: Type.String(),
			status: Type.String(),
			params: Type.Record(Type.String(), Type.Unknown()),
			metrics: Type.Record(Type.String(), Type.Number()),
			code_at: Type.String({ description: 'GET this for the code as it was when the run started' })
		})
	)
});

type Item = {
	at: number;
	type: 'chat' | 'activity' | 'run' | 'annotation';
	user: { id: string; name: string } | null;
	text: string;
	kind?: string;
	run?: {
		id: string;
		name: string;
		status: string;
		params: Record<string, unknown>;
		metrics: Record<string, number>;
		code_at: string;
	};
};

function metricsOf(run: RunRecord): Record<string, number> {
	const out: Record<string, number> = {};
	for (const k of ['accuracy', 'loss', 'val_accuracy', 'val_loss'] as const) {
		const v = run.summary?.[k];
		if (typeof v === 'number') out[k] = v;
	}
	return out;
}

const num = (v: unknown): string =>
	typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(4))) : String(v);

function markdown(title: string, from: number, to: number, items: readonly Item[]): string {
	const time = (ms: number) => iso(ms).replace('T', ' ').slice(0, 19);
	const lines = [`# ${title}: session transcript`, '', `${time(from)} – ${time(to)} UTC`, ''];
	if (items.length === 0) lines.push('Nothing happened in this span.');
	for (const it of items) {
		const who = it.user?.name ?? 'The server';
		const at = time(it.at).slice(11);
		if (it.type === 'chat') lines.push(`- **${at}** ${who}: ${it.text}`);
		else if (it.type === 'run' && it.run) {
			const params = Object.entries(it.run.params)
				.map(([k, v]) => `${k} ${num(v)}`)
				.join(', ');
			const metrics = Object.entries(it.run.metrics)
				.map(([k, v]) => `${k} ${num(v)}`)
				.join(', ');
			lines.push(
				`- **${at}** ${who} started run **${it.run.name}** (${it.run.status})${metrics ? `: ${metrics}` : ''}`,
				`  - hyperparameters: ${params || '(none)'}`,
				`  - code: ${it.run.code_at}`
			);
		} else lines.push(`- **${at}** _${it.text}_`);
	}
	return lines.join('\n') + '\n';
}

export function transcriptRoutes(
	app: FastifyInstance,
	ctx: AppContext,
	history: HistoryService
): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();
	api.get(
		'/api/workspaces/:id/transcript',
		{
			schema: {
				tags: ['history'],
				summary: 'Chat, activity, runs and annotations of a span, in time order (any member)',
				params: WorkspaceParams,
				querystring: Type.Object({
					from: Type.Optional(Type.String({ maxLength: 40 })),
					to: Type.Optional(Type.String({ maxLength: 40 })),
					format: Type.Optional(Type.Union([Type.Literal('md'), Type.Literal('json')]))
				}),
				response: {
					200: Type.Object({
						workspace: Type.Object({ id: Type.String(), name: Type.String() }),
						from: Type.String({ format: 'date-time' }),
						to: Type.String({ format: 'date-time' }),
						items: Type.Array(ItemSchema)
					}),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request, reply) => {
			const { workspace } = await requireMember(ctx, request, request.params.id, 'view_workspace');
			const now = ctx.clock.now();
			const from = request.query.from ? parseMoment(request.query.from) : workspace.createdAt;
			const to = request.query.to ? parseMoment(request.query.to) : now;
			if (from > to)
				throw new HistoryError(
					400,
					'bad_span',
					'`from` is after `to`; give the earlier time first.'
				);
			const within = (ms: number) => ms >= from && ms <= to;

			const activity: ActivityRecord[] = [];
			for (let before: string | undefined; activity.length < MAX_ITEMS;) {
				const page = await history.activity(workspace.id, { limit: 500, before, from, to });
				activity.push(...page.filter((e) => !TOLD_ELSEWHERE.has(e.kind)));
				if (page.length < 500) break;
				before = page[page.length - 1]!.id;
			}
			const handle = await ctx.relay.open({ workspace: workspace.id, doc: 'live' });
			const items: Item[] = [];
			try {
				const doc = handle.doc;
				for (const m of doc.getArray<{
					text: string;
					at: string;
					user: { id: string; name: string };
				}>(schema.live.chat)) {
					const at = Date.parse(m.at);
					if (within(at))
						items.push({
							at,
							type: 'chat',
							user: { id: m.user.id, name: m.user.name },
							text: m.text
						});
				}
				for (const entry of doc.getMap<unknown>(schema.live.runs).values()) {
					if (!(entry instanceof Y.Map)) continue;
					const run = entry.toJSON() as RunRecord;
					const at = run.started_at ?? run.created_at;
					if (!within(at)) continue;
					items.push({
						at,
						type: 'run',
						user: run.started_by ? { id: run.started_by.id, name: run.started_by.name } : null,
						text: `${run.name} (${run.status})`,
						run: {
							id: run.id,
							name: run.name,
							status: run.status,
							params: run.params,
							metrics: metricsOf(run),
							code_at: `/api/workspaces/${workspace.id}/history?at=${encodeURIComponent(iso(at))}`
						}
					});
				}
				for (const a of doc.getArray<Annotation>(schema.live.annotations)) {
					if (!within(a.at)) continue;
					items.push({
						at: a.at,
						type: 'annotation',
						user: a.author ? { id: a.author.id, name: a.author.name } : null,
						text: `${a.author?.name ?? 'Someone'} annotated ${a.metric} at step ${a.step}: “${a.text}”`
					});
				}
			} finally {
				handle.release();
			}
			const names = await namesOf(
				ctx,
				activity.map((e) => e.user)
			);
			for (const e of activity) {
				const j = entryJson(e, names);
				items.push({ at: e.at, type: 'activity', user: j.user, text: e.summary, kind: e.kind });
			}
			items.sort((a, b) => a.at - b.at);
			if (request.query.format === 'md') {
				return (
					reply
						.type('text/markdown; charset=utf-8')
						.header('content-disposition', `attachment; filename="${workspace.id}-transcript.md"`)
						// A string body is sent as it is (the JSON schema describes the JSON form).
						.send(markdown(workspace.name, from, to, items) as never)
				);
			}
			return {
				workspace: { id: workspace.id, name: workspace.name },
				from: iso(from),
				to: iso(to),
				items: items.map((it) => ({ ...it, at: iso(it.at) }))
			};
		}
	);
}
