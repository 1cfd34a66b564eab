// What training writes into the shared documents, read by the server and the app
// alike (server/SPEC.md). `live.runs` maps run id → Y.Map of RunRecord's
// fields; `live.training` holds TrainingState's fields; `live.annotations` is a
// Y.Array of Annotation; `run/{id}.metrics` is a Y.Array of MetricPoint.

export const RUN_STATUSES = [
	'queued',
	'running',
	'completed',
	'failed',
	'stopped',
	'interrupted',
	'lost'
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export function isFinalStatus(status: RunStatus): boolean {
	return status !== 'queued' && status !== 'running';
}

export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'adagrad', 'momentum'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** The hyperparameters a run was trained with (copied from `params` at start). */
export interface Hyperparameters {
	learning_rate: number;
	batch_size: number;
	epochs: number;
	hidden_units: number;
	optimizer: OptimizerName;
	validation_split: number;
	seed: number;
}

/** Who did something, as the server authenticated them. */
export interface Actor {
	readonly id: string;
	readonly name: string;
}

/** The latest numbers of a run, for lists and legends without opening its document. */
export interface RunSummary {
	epoch: number;
	epochs: number | null;
	loss: number | null;
	accuracy: number | null;
	val_loss: number | null;
	val_accuracy: number | null;
	elapsed_ms: number;
	/**
	 * The best value each metric reached over the run's epoch points (lowest for a
	 * name with "loss" in it, highest otherwise); written by the run's writer.
	 */
	best?: Record<string, number>;
	/** Every metric of the newest epoch point (a script's own metrics too). */
	last?: Record<string, number>;
}

/** Lower is better for losses and errors; higher for everything else. */
export function lowerIsBetter(metric: string): boolean {
	return /loss|error|perplexity/i.test(metric);
}

/**
 * Where a run executes: the server's sandbox, an agent, whichever of those takes
 * it first (`any`), the built-in TensorFlow.js model, or a script on its own.
 */
export type RunnerKind = 'builtin' | 'server' | 'agent' | 'any' | 'external';

/** How much a run has printed (its log keeps only the tail; these count everything). */
export interface LogSize {
	lines: number;
	bytes: number;
	/** Lines kept in `run/{id}.log` (the newest). */
	kept: number;
}

/** Fields of one entry of `live.runs` (a Y.Map per run, so status changes stay small). */
export interface RunRecord {
	id: string;
	/** `builtin`: trained by the server; `external`: reported by a script with an API key. */
	source: 'builtin' | 'external';
	name: string;
	status: RunStatus;
	started_by: Actor;
	/** ms since the epoch. */
	created_at: number;
	started_at: number | null;
	ended_at: number | null;
	params: Record<string, number | string | boolean>;
	/** File name → the exact text the run started from. */
	code: Record<string, string>;
	dataset: { id: string; name: string } | null;
	target: string | null;
	summary: RunSummary;
	/** Why it failed, stopped or was interrupted. */
	message: string | null;
	/** The last lines of a script's output (failed external runs). */
	output: string[];
	/** Absent on runs recorded before the queue: `source` tells then. */
	runner?: RunnerKind;
	/** The agent asked for (runner `agent`; null: any). */
	agent?: string | null;
	/** Who runs it once claimed: "server host:8000", "agent gpu-1". */
	where?: string | null;
	/** The entry file it runs (server and agent runs). */
	entry?: string | null;
	log?: LogSize | null;
	/** Queue it again if its agent is lost. */
	requeue?: boolean;
	/** The run this one re-queues (same code, parameters and data). */
	requeue_of?: string | null;
	/** The sweep it belongs to, and which of its configurations it runs. */
	sweep?: string | null;
	sweep_index?: number | null;
	/** Who stopped it (told to the person who started it when that is someone else). */
	stopped_by?: Actor | null;
}

/** Fields of `live.training`. `status` is the seed's `training_status`. */
export interface TrainingState {
	status: 'idle' | RunStatus;
	current_run: string | null;
	queued: string[];
	updated_at: number;
}

export interface MetricPoint {
	/** `epoch`: one per epoch (with validation metrics); `batch`: one per (sampled) batch. */
	kind: 'epoch' | 'batch';
	/** The x axis: epoch number for epoch points, global batch index for batch points. */
	step: number;
	epoch: number;
	/** ms since the run started training. */
	elapsed_ms: number;
	/** loss, accuracy, val_loss, val_accuracy, or any metric a script reports. */
	values: Record<string, number>;
}

export interface Annotation {
	id: string;
	run: string;
	step: number;
	metric: string;
	text: string;
	author: Actor;
	at: number;
}
