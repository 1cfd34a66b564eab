// The built-in TensorFlow.js model as an executor: the no-Python demo. It trains
// in a worker thread (runner.ts) at a bounded CPU share; it ignores the code files.

import type { RunSummary } from '../protocol/training.ts';
import type { Availability, ExecEvents, ExecHandle, ExecJob, Executor } from './executor.ts';
import { startWorker } from './runner.ts';
import type { WorkerInput } from './workerProtocol.ts';

export type JobInput = Omit<WorkerInput, 'maxBatchPoints' | 'postIntervalMs' | 'cpuShare'>;

export interface BuiltinExecutorOptions {
	/** The run's features, labels and hyperparameters (a rejection fails the run with its message). */
	readonly prepare: (job: ExecJob) => Promise<JobInput>;
	readonly maxBatchPoints: number;
	readonly cpuShare: number;
	readonly postIntervalMs: number;
}

export class BuiltinExecutor implements Executor {
	readonly kind = 'builtin' as const;
	readonly #o: BuiltinExecutorOptions;

	constructor(options: BuiltinExecutorOptions) {
		this.#o = options;
	}

	availability(): Availability {
		return { available: true };
	}

	async start(job: ExecJob, events: ExecEvents): Promise<ExecHandle> {
		const input = await this.#o.prepare(job);
		const handle = startWorker(
			{
				...input,
				maxBatchPoints: this.#o.maxBatchPoints,
				cpuShare: this.#o.cpuShare,
				postIntervalMs: this.#o.postIntervalMs
			},
			{
				started: (train, validation) =>
					events.log([`training on ${train} rows, validating on ${validation}`]),
				points: (points) => {
					let last: RunSummary | null = null;
					for (const p of points) if (p.kind === 'epoch') last = toSummary(p, input.params.epochs);
					events.points(points, last);
				}
			}
		);
		return {
			done: handle.done.then((o) =>
				o.status === 'completed' ? { status: 'completed', summary: o.summary } : o
			),
			stop: () => handle.stop()
		};
	}
}

export function toSummary(
	point: { epoch: number; elapsed_ms: number; values: Record<string, number> },
	epochs: number | null
): RunSummary {
	const v = point.values;
	return {
		epoch: point.epoch,
		epochs,
		loss: v.loss ?? null,
		accuracy: v.accuracy ?? null,
		val_loss: v.val_loss ?? null,
		val_accuracy: v.val_accuracy ?? null,
		elapsed_ms: point.elapsed_ms
	};
}
