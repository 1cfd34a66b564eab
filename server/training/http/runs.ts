// Runs: start, stop, list and read built-in runs; runs reported by scripts
// (create, post metrics, set status); the current hyperparameters and code.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errors } from '../../api/schemas.ts';
import type { AppContext } from '../../api/context.ts';
import type { RunId } from '../../protocol/ids.ts';
import type { MetricPoint } from '../../protocol/training.ts';
import type { Availability as ExecAvailability } from '../executor.ts';
import type { TrainingService } from '../service.ts';
import { authorize } from './auth.ts';
import {
	CodeFiles,
	Id,
	MetricInputSchema,
	MetricPointSchema,
	ParamsInput,
	AgentName,
	RunnerSchema,
	RunParams,
	RunSchema,
	WorkspaceParams
} from './schemas.ts';

const RunResponse = Type.Object({ run: RunSchema });
const StartResponse = Type.Object({
	run: RunSchema,
	queued: Type.Boolean(),
	position: Type.Integer(),
	message: Type.String()
});
const Availability = Type.Object({
	available: Type.Boolean(),
	reason: Type.Union([Type.String(), Type.Null()])
});
const QueueEntry = Type.Object({
	run: Type.String(),
	runner: RunnerSchema,
	agent: Type.Union([Type.String(), Type.Null()]),
	state: Type.Union([Type.Literal('queued'), Type.Literal('running')]),
	claimed_by: Type.Union([Type.String(), Type.Null()]),
	queued_at: Type.Number(),
	heartbeat_at: Type.Union([Type.Number(), Type.Null()]),
	stop_requested: Type.Boolean()
});

function availability(a: ExecAvailability): { available: boolean; reason: string | null } {
	return a.available ? { available: true, reason: null } : { available: false, reason: a.reason };
}
const tags = ['training'];

export function runRoutes(app: FastifyInstance, ctx: AppContext, service: TrainingService): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();
	const auth = authorize.bind(null, ctx, service.apiKeys);

	api.post(
		'/api/workspaces/:id/runs',
		{
			// No body at all means "the defaults" (scripts and curl send none).
			preValidation: (request, _reply, done) => {
				request.body ??= {};
				done();
			},
			schema: {
				tags,
				summary:
					"Queue a run of the workspace's code (or the built-in model) with the current hyperparameters; 201 started, 202 queued.",
				params: WorkspaceParams,
				body: Type.Object({
					runner: Type.Optional(
						Type.Union([Type.Literal('server'), Type.Literal('agent'), Type.Literal('builtin')], {
							description:
								"where it runs: the server's sandbox (the default where available), an agent, or the built-in TensorFlow.js model"
						})
					),
					agent: Type.Optional(AgentName),
					requeue: Type.Optional(
						Type.Boolean({ description: 'queue it again if its agent is lost' })
					),
					dataset: Type.Optional(Id),
					target: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
					name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 }))
				}),
				response: {
					201: StartResponse,
					202: StartResponse,
					...errors(400, 401, 403, 404, 409)
				}
			}
		},
		async (request, reply) => {
			const caller = await auth(request, request.params.id, 'start_training');
			const result = await service.start(
				caller.workspace,
				caller.actor,
				caller.userId,
				request.body ?? {}
			);
			return reply.status(result.queued ? 202 : 201).send(result);
		}
	);

	api.post(
		'/api/workspaces/:id/runs/:runId/stop',
		{
			schema: {
				tags,
				summary:
					'Stop a queued or running run (one running on an agent or another process stops at its next heartbeat)',
				params: RunParams,
				response: { 200: RunResponse, ...errors(400, 401, 403, 404, 409) }
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'start_training');
			return {
				run: await service.stop(caller.workspace, request.params.runId as RunId, caller.actor)
			};
		}
	);

	api.post(
		'/api/workspaces/:id/runs/:runId/requeue',
		{
			schema: {
				tags,
				summary: 'Queue a new run with the exact code, parameters, data and runner of an ended one',
				params: RunParams,
				response: { 201: StartResponse, 202: StartResponse, ...errors(400, 401, 403, 404, 409) }
			}
		},
		async (request, reply) => {
			const caller = await auth(request, request.params.id, 'start_training');
			const result = await service.requeue(
				caller.workspace,
				caller.actor,
				caller.userId,
				request.params.runId as RunId
			);
			return reply.status(result.queued ? 202 : 201).send(result);
		}
	);

	api.get(
		'/api/workspaces/:id/runners',
		{
			schema: {
				tags,
				summary:
					"Where runs can run: the server's sandbox and the built-in model (available, or why not), and the queue",
				params: WorkspaceParams,
				response: {
					200: Type.Object({
						default: Type.Union([Type.Literal('server'), Type.Literal('builtin')]),
						server: Availability,
						builtin: Availability,
						queue: Type.Array(QueueEntry)
					}),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'view_workspace');
			const runners = service.runners();
			return {
				default: service.defaultRunner(),
				server: availability(runners.server),
				builtin: availability(runners.builtin),
				queue: await service.queueOf(caller.workspace)
			};
		}
	);

	api.get(
		'/api/workspaces/:id/runs',
		{
			schema: {
				tags,
				summary: 'Every run of the workspace, newest first (without metrics)',
				params: WorkspaceParams,
				response: {
					200: Type.Object({ runs: Type.Array(RunSchema) }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'view_workspace');
			return { runs: await service.listRuns(caller.workspace) };
		}
	);

	api.get(
		'/api/workspaces/:id/runs/:runId',
		{
			schema: {
				tags,
				summary: 'One run: its record (params, code, status) and its metrics',
				params: RunParams,
				response: {
					200: Type.Object({ run: RunSchema, metrics: Type.Array(MetricPointSchema) }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'view_workspace');
			return service.getRun(caller.workspace, request.params.runId as RunId);
		}
	);

	api.get(
		'/api/workspaces/:id/hyperparameters',
		{
			schema: {
				tags,
				summary: 'The current hyperparameters and config (API key or member)',
				params: WorkspaceParams,
				response: {
					200: Type.Object({
						hyperparameters: Type.Record(Type.String(), Type.Unknown()),
						config: Type.Record(Type.String(), Type.Unknown())
					}),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'view_workspace');
			return service.currentParams(caller.workspace);
		}
	);

	api.get(
		'/api/workspaces/:id/code',
		{
			schema: {
				tags,
				summary: "The workspace's code files as text (API key or member)",
				params: WorkspaceParams,
				response: {
					200: Type.Object({ files: Type.Record(Type.String(), Type.String()) }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'view_workspace');
			return { files: await service.currentCode(caller.workspace) };
		}
	);

	api.post(
		'/api/workspaces/:id/external-runs',
		{
			bodyLimit: 8 * 1024 * 1024,
			schema: {
				tags,
				summary: 'Create a run reported by a script, with the params and code files it used',
				params: WorkspaceParams,
				body: Type.Object({
					name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
					params: Type.Optional(ParamsInput),
					code: Type.Optional(CodeFiles),
					dataset: Type.Optional(Type.String({ maxLength: 200 })),
					target: Type.Optional(Type.String({ maxLength: 200 }))
				}),
				response: {
					201: Type.Object({
						run: RunSchema,
						heartbeat_s: Type.Number({
							description: 'how often to heartbeat (POST …/heartbeat) while the script runs'
						})
					}),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request, reply) => {
			const caller = await auth(request, request.params.id, 'start_training');
			const { params, code, ...rest } = request.body;
			const current = params ?? (await service.currentParamsSnapshot(caller.workspace));
			const run = await service.external.create(caller.workspace, caller.actor, caller.userId, {
				...rest,
				params: current,
				code: code ?? {}
			});
			return reply.status(201).send({ run, heartbeat_s: service.heartbeatMs / 1000 });
		}
	);

	api.post(
		'/api/workspaces/:id/runs/:runId/metrics',
		{
			bodyLimit: 4 * 1024 * 1024,
			schema: {
				tags,
				summary: 'Post a batch of metric points to a run reported by a script',
				params: RunParams,
				body: Type.Object({
					points: Type.Array(MetricInputSchema, { minItems: 1, maxItems: 1000 }),
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
			const points: MetricPoint[] = request.body.points.map((p) => ({
				kind: p.kind ?? 'epoch',
				step: p.step,
				epoch: p.epoch ?? p.step,
				elapsed_ms: p.elapsed_ms ?? 0,
				values: p.values
			}));
			await service.external.post(
				caller.workspace,
				request.params.runId as RunId,
				points,
				request.body.agent
			);
			return reply.status(202).send({ accepted: points.length });
		}
	);

	api.post(
		'/api/workspaces/:id/runs/:runId/status',
		{
			schema: {
				tags,
				summary:
					'End a run reported by a script or agent: completed, failed (with its last output lines), stopped, or interrupted (its agent or script was shut down; an agent run asked to be re-queued is queued again)',
				params: RunParams,
				body: Type.Object({
					status: Type.Union([
						Type.Literal('completed'),
						Type.Literal('failed'),
						Type.Literal('stopped'),
						Type.Literal('interrupted')
					]),
					message: Type.Optional(Type.String({ maxLength: 2000 })),
					output: Type.Optional(Type.Array(Type.String({ maxLength: 10_000 }), { maxItems: 1000 })),
					agent: Type.Optional(AgentName)
				}),
				response: { 200: RunResponse, ...errors(400, 401, 403, 404, 409) }
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'start_training');
			const { status, message, output, agent } = request.body;
			const run = await service.external.finish(
				caller.workspace,
				request.params.runId as RunId,
				status,
				message ?? null,
				output ?? [],
				agent
			);
			return { run };
		}
	);
}
