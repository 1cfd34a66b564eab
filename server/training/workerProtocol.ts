// Messages between the runner (main thread) and its training worker.

import type { Hyperparameters, MetricPoint, RunSummary } from '../protocol/training.ts';

export interface WorkerInput {
	/** Row-major, rows × numFeatures. Transferred to the worker, not copied. */
	readonly features: Float32Array;
	readonly labels: Int32Array;
	readonly numFeatures: number;
	readonly numClasses: number;
	readonly params: Hyperparameters;
	/** Batch points per run are sampled down to about this many, so run documents stay small. */
	readonly maxBatchPoints: number;
	/** The worker posts buffered points at most this often. */
	readonly postIntervalMs: number;
	/** Share of one core the worker may use (0 < share ≤ 1): it rests between batches to stay under it. */
	readonly cpuShare: number;
}

export type WorkerMessage =
	| { readonly type: 'started'; readonly train: number; readonly validation: number }
	| { readonly type: 'points'; readonly points: MetricPoint[] }
	| { readonly type: 'done'; readonly summary: RunSummary }
	| { readonly type: 'error'; readonly message: string };
