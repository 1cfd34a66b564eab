// TypeBox schemas of the training endpoints: they validate input (a failure is a
// 400 naming the field) and describe output in the OpenAPI document.

import { Type, type TSchema } from '@sinclair/typebox';

export const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', maxLength: 64 });
export const AgentName = Type.String({
	pattern: '^[A-Za-z0-9_.:@-]{1,64}$',
	description: "an agent's name (letters, digits, _ . : @ -)"
});
export const WorkspaceParams = Type.Object({ id: Id });
export const RunParams = Type.Object({ id: Id, runId: Id });
export const DatasetParams = Type.Object({ id: Id, datasetId: Id });
export const KeyParams = Type.Object({ id: Id, keyId: Id });

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Scalar = Type.Union([Type.Number(), Type.String(), Type.Boolean()]);
const Actor = Type.Object({ id: Type.String(), name: Type.String() });
const Ms = Type.Number({ description: 'ms since the epoch' });

export const SummarySchema = Type.Object({
	epoch: Type.Number(),
	epochs: Nullable(Type.Number()),
	loss: Nullable(Type.Number()),
	accuracy: Nullable(Type.Number()),
	val_loss: Nullable(Type.Number()),
	val_accuracy: Nullable(Type.Number()),
	elapsed_ms: Type.Number(),
	best: Type.Optional(
		Type.Record(Type.String(), Type.Number(), {
			description: 'best value of each metric (lowest loss, highest otherwise)'
		})
	),
	last: Type.Optional(
		Type.Record(Type.String(), Type.Number(), { description: 'newest epoch value of each metric' })
	)
});

export const RunnerSchema = Type.Union(
	[
		Type.Literal('builtin'),
		Type.Literal('server'),
		Type.Literal('agent'),
		Type.Literal('any'),
		Type.Literal('external')
	],
	{ description: 'where the run executes' }
);

export const RunSchema = Type.Object({
	id: Type.String(),
	source: Type.Union([Type.Literal('builtin'), Type.Literal('external')]),
	name: Type.String(),
	status: Type.Union([
		Type.Literal('queued'),
		Type.Literal('running'),
		Type.Literal('completed'),
		Type.Literal('failed'),
		Type.Literal('stopped'),
		Type.Literal('interrupted'),
		Type.Literal('lost')
	]),
	started_by: Actor,
	created_at: Ms,
	started_at: Nullable(Ms),
	ended_at: Nullable(Ms),
	params: Type.Record(Type.String(), Scalar),
	code: Type.Record(Type.String(), Type.String()),
	dataset: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
	target: Nullable(Type.String()),
	summary: SummarySchema,
	message: Nullable(Type.String()),
	output: Type.Array(Type.String()),
	runner: Type.Optional(RunnerSchema),
	agent: Type.Optional(Nullable(Type.String())),
	where: Type.Optional(Nullable(Type.String())),
	entry: Type.Optional(Nullable(Type.String())),
	log: Type.Optional(
		Nullable(Type.Object({ lines: Type.Integer(), bytes: Type.Integer(), kept: Type.Integer() }))
	),
	requeue: Type.Optional(Type.Boolean()),
	requeue_of: Type.Optional(Nullable(Type.String())),
	sweep: Type.Optional(Nullable(Type.String({ description: 'the sweep it belongs to' }))),
	sweep_index: Type.Optional(
		Nullable(Type.Integer({ description: 'which configuration of its sweep it runs' }))
	),
	stopped_by: Type.Optional(Nullable(Actor))
});

export const MetricPointSchema = Type.Object({
	kind: Type.Union([Type.Literal('epoch'), Type.Literal('batch')]),
	step: Type.Number(),
	epoch: Type.Number(),
	elapsed_ms: Type.Number(),
	values: Type.Record(Type.String(), Type.Number())
});

/** What a script posts: `values` holds any named metrics; kind defaults to epoch. */
export const MetricInputSchema = Type.Object({
	step: Type.Integer({ minimum: 0, maximum: 1e9 }),
	kind: Type.Optional(Type.Union([Type.Literal('epoch'), Type.Literal('batch')])),
	epoch: Type.Optional(Type.Number({ minimum: 0 })),
	elapsed_ms: Type.Optional(Type.Number({ minimum: 0 })),
	values: Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.Number(), {
		maxProperties: 50
	})
});

export const ColumnSchema = Type.Object({
	name: Type.String(),
	type: Type.Union([Type.Literal('number'), Type.Literal('text')]),
	distinct: Type.Integer()
});

export const DatasetSchema = Type.Object({
	id: Type.String(),
	name: Type.String(),
	bundled: Type.Boolean(),
	rows: Type.Integer(),
	columns: Type.Array(ColumnSchema),
	default_target: Type.String(),
	bytes: Type.Integer(),
	created_at: Ms,
	created_by: Nullable(Type.String())
});

export const ApiKeySchema = Type.Object({
	id: Type.String(),
	name: Type.String(),
	created_at: Ms,
	created_by: Type.String(),
	revoked_at: Nullable(Ms)
});

export const AnnotationSchema = Type.Object({
	id: Type.String(),
	run: Type.String(),
	step: Type.Number(),
	metric: Type.String(),
	text: Type.String(),
	author: Actor,
	at: Ms
});

export const CodeFiles = Type.Record(
	Type.String({ minLength: 1, maxLength: 200 }),
	Type.String({ maxLength: 1_000_000 }),
	{ maxProperties: 100 }
);
export const ParamsInput = Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Scalar, {
	maxProperties: 100
});
