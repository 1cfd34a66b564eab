// What agents and scripts call besides metrics and status: claim a queued run
// (long poll), heartbeat (the answer says whether to stop), and post log lines.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errors } from '../../api/schemas.ts';
import type { AppContext } from '../../api/context.ts';
import type { RunId } from '../../protocol/ids.ts';
import type { TrainingService } from '../service.ts';
import { DEFAULT_ENTRY } from '../entry.ts';
import { authorize } from './auth.ts';
import { AgentName, RunParams, RunSchema, WorkspaceParams } from './schemas.ts';

const tags = ['training'];
/** The longest a claim waits for a run before answering 204. */
const MAX_WAIT_S = 25;

export function agentRoutes(app: FastifyInstance, ctx: AppContext, service: TrainingService): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();
	const auth = authorize.bind(null, ctx, service.apiKeys);

	api.post(
		'/api/workspaces/:id/agents/claim',
		{
			schema: {
				tags,
				summary:
					'An agent takes the oldest queued agent run (for any agent or this one), waiting up to wait_s; 204 when none came',
				params: WorkspaceParams,
				body: Type.Object({
					agent: AgentName,
					wait_s: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_WAIT_S }))
				}),
				response: {
					200: Type.Object({
						run: RunSchema,
						entry: Type.String(),
						files: Type.Record(Type.String(), Type.String()),
						hyperparameters: Type.Record(Type.String(), Type.Unknown()),
						dataset: Type.Union([
							Type.Object({ name: Type.String(), csv: Type.String() }),
							Type.Null()
						]),
						heartbeat_s: Type.Number()
					}),
					204: Type.Null(),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request, reply) => {
			const caller = await auth(request, request.params.id, 'start_training');
			const { agent } = request.body;
			const deadline = Date.now() + (request.body.wait_s ?? 0) * 1000;
			let closed = false;
			request.raw.once('close', () => (closed = true));
			for (;;) {
				const run = await service.queue.claimForAgent(caller.workspace, agent);
				if (run) {
					const dataset = run.dataset
						? await service.datasets.csv(caller.workspace, run.dataset.id)
						: null;
					return {
						run,
						entry: run.entry ?? DEFAULT_ENTRY,
						files: run.code,
						hyperparameters: run.params,
						dataset: dataset
							? { name: dataset.name, csv: new TextDecoder().decode(dataset.csv) }
							: null,
						heartbeat_s: service.heartbeatMs / 1000
					};
				}
				const left = deadline - Date.now();
				if (left <= 0 || closed) return reply.status(204).send(null);
				await service.queue.waitForWork(Math.min(left, 1000));
			}
		}
	);

	api.post(
		'/api/workspaces/:id/runs/:runId/heartbeat',
		{
			schema: {
				tags,
				summary:
					'The agent or script reporting this run is alive (silent for 25 s, the run ends lost); says whether to stop',
				params: RunParams,
				body: Type.Optional(Type.Object({ agent: Type.Optional(AgentName) })),
				response: {
					200: Type.Object({ stop: Type.Boolean() }),
					...errors(400, 401, 403, 404, 409)
				}
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'start_training');
			return service.external.heartbeat(
				caller.workspace,
				request.params.runId as RunId,
				request.body?.agent
			);
		}
	);

	api.post(
		'/api/workspaces/:id/runs/:runId/log',
		{
			bodyLimit: 4 * 1024 * 1024,
			schema: {
				tags,
				summary:
					"Append lines to a run's log (the output that is not metrics); the newest are kept",
				params: RunParams,
				body: Type.Object({
					lines: Type.Array(Type.String({ maxLength: 10_000 }), { minItems: 1, maxItems: 1000 }),
					agent: Type.Optional(AgentName)
				}),
				response: {
					202: Type.Object({ accepted: Type.Integer() }),
					...errors(400, 401, 403, 404, 409)
				}
			}
		},
		async (request, reply) => {
			const caller = await auth(request, request.params.id, 'start_training');
			const { lines, agent } = request.body;
			await service.external.log(caller.workspace, request.params.runId as RunId, lines, agent);
			return reply.status(202).send({ accepted: lines.length });
		}
	);
}
