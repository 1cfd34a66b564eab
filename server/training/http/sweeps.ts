// Sweeps: start one from a definition, list them with their progress and best run,
// stop one (SWEEP1-6); and renaming a run (RUNNAME2).

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errors } from '../../api/schemas.ts';
import type { AppContext } from '../../api/context.ts';
import type { RunId } from '../../protocol/ids.ts';
import {
	MAX_SWEEP_PARAMETERS,
	MAX_SWEEP_RUNS,
	SWEEP_METRICS,
	SWEEP_RUNNERS
} from '../../protocol/sweeps.ts';
import { MAX_RUN_NAME } from '../runNames.ts';
import type { TrainingService } from '../service.ts';
import { authorize } from './auth.ts';
import { Id, RunParams, RunSchema, WorkspaceParams } from './schemas.ts';

const tags = ['sweeps'];
const Scalar = Type.Union([Type.Number(), Type.String({ maxLength: 200 }), Type.Boolean()]);
const Actor = Type.Object({ id: Type.String(), name: Type.String() });

const ParameterSchema = Type.Object(
	{
		values: Type.Optional(
			Type.Array(Scalar, { minItems: 1, maxItems: MAX_SWEEP_RUNS, description: 'a list' })
		),
		min: Type.Optional(Type.Number({ description: 'a range: its lowest value' })),
		max: Type.Optional(Type.Number({ description: 'a range: its highest value' })),
		scale: Type.Optional(Type.Union([Type.Literal('linear'), Type.Literal('log')])),
		type: Type.Optional(Type.Union([Type.Literal('int'), Type.Literal('float')])),
		steps: Type.Optional(
			Type.Integer({
				minimum: 1,
				maximum: MAX_SWEEP_RUNS,
				description: 'grid search: how many values a range gives (default 3)'
			})
		)
	},
	{
		additionalProperties: false,
		description: 'either `values` (a list) or `min` and `max` (a range)'
	}
);

const DefinitionSchema = Type.Object(
	{
		name: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
		parameters: Type.Record(Type.String({ minLength: 1, maxLength: 64 }), ParameterSchema, {
			maxProperties: MAX_SWEEP_PARAMETERS
		}),
		method: Type.Union([Type.Literal('grid'), Type.Literal('random')]),
		count: Type.Optional(
			Type.Integer({ minimum: 1, maximum: MAX_SWEEP_RUNS, description: 'random search: runs' })
		),
		seed: Type.Optional(
			Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'random search: the seed' })
		),
		metric: Type.Union(
			[
				Type.Literal('val_accuracy'),
				Type.Literal('accuracy'),
				Type.Literal('val_loss'),
				Type.Literal('loss')
			],
			{ description: `one of ${SWEEP_METRICS.join(', ')}` }
		),
		goal: Type.Union([Type.Literal('maximize'), Type.Literal('minimize')]),
		runner: Type.Union(
			[Type.Literal('server'), Type.Literal('agent'), Type.Literal('builtin'), Type.Literal('any')],
			{ description: `where its runs run: ${SWEEP_RUNNERS.join(', ')} (the sandbox or an agent)` }
		)
	},
	{ additionalProperties: false }
);

const SweepSchema = Type.Object({
	sweep: Type.Object({
		id: Type.String(),
		name: Type.String(),
		definition: DefinitionSchema,
		total: Type.Integer(),
		created_by: Actor,
		created_at: Type.Number(),
		state: Type.Union([Type.Literal('running'), Type.Literal('stopped')]),
		stopped_by: Type.Union([Actor, Type.Null()]),
		ended_at: Type.Union([Type.Number(), Type.Null()])
	}),
	progress: Type.Object({
		total: Type.Integer(),
		queued: Type.Integer(),
		running: Type.Integer(),
		completed: Type.Integer(),
		failed: Type.Integer(),
		state: Type.Union([
			Type.Literal('running'),
			Type.Literal('stopped'),
			Type.Literal('completed')
		]),
		best: Type.Union([
			Type.Object({ run: Type.String(), name: Type.String(), value: Type.Number() }),
			Type.Null()
		])
	}),
	runs: Type.Array(Type.String(), { description: "the sweep's runs, newest first" })
});

const SweepParams = Type.Object({ id: Id, sweepId: Id });

export function sweepRoutes(app: FastifyInstance, ctx: AppContext, service: TrainingService): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();
	const auth = authorize.bind(null, ctx, service.apiKeys);

	api.post(
		'/api/workspaces/:id/sweeps',
		{
			schema: {
				tags,
				summary: `Start a sweep: one queued run per configuration (grid or seeded random search, at most ${MAX_SWEEP_RUNS}), taken by the server's sandbox and agents`,
				params: WorkspaceParams,
				body: DefinitionSchema,
				response: { 201: SweepSchema, ...errors(400, 401, 403, 404, 409) }
			}
		},
		async (request, reply) => {
			const caller = await auth(request, request.params.id, 'start_training');
			const view = await service.sweeps.create(
				caller.workspace,
				caller.actor,
				caller.userId,
				request.body
			);
			return reply.status(201).send(view);
		}
	);

	api.get(
		'/api/workspaces/:id/sweeps',
		{
			schema: {
				tags,
				summary: 'The sweeps of the workspace, newest first, with their progress and best run',
				params: WorkspaceParams,
				response: {
					200: Type.Object({ sweeps: Type.Array(SweepSchema) }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'view_workspace');
			return { sweeps: await service.sweeps.list(caller.workspace) };
		}
	);

	api.get(
		'/api/workspaces/:id/sweeps/:sweepId',
		{
			schema: {
				tags,
				summary: 'One sweep: its definition, progress counts and best run so far',
				params: SweepParams,
				response: { 200: SweepSchema, ...errors(400, 401, 403, 404) }
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'view_workspace');
			return service.sweeps.get(caller.workspace, request.params.sweepId);
		}
	);

	api.post(
		'/api/workspaces/:id/sweeps/:sweepId/stop',
		{
			schema: {
				tags,
				summary: 'Stop a sweep: its queued runs are withdrawn, its running ones stopped',
				params: SweepParams,
				response: { 200: SweepSchema, ...errors(400, 401, 403, 404, 409) }
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'start_training');
			return service.sweeps.stop(
				caller.workspace,
				request.params.sweepId,
				caller.actor,
				caller.userId
			);
		}
	);

	api.patch(
		'/api/workspaces/:id/runs/:runId',
		{
			schema: {
				tags: ['training'],
				summary: 'Rename a run (the name must be free in the workspace)',
				params: RunParams,
				body: Type.Object(
					{ name: Type.String({ minLength: 1, maxLength: MAX_RUN_NAME }) },
					{ additionalProperties: false }
				),
				response: { 200: Type.Object({ run: RunSchema }), ...errors(400, 401, 403, 404, 409) }
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'start_training');
			const run = await service.rename(
				caller.workspace,
				request.params.runId as RunId,
				request.body.name,
				caller.userId
			);
			return { run };
		}
	);
}
