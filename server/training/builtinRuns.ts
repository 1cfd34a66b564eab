// The built-in runner's queue: one run at a time per workspace (and at most
// `maxConcurrent` workers on the server), status into `live`, metrics into the
// run's own document, both batched. Every run is listed active in storage from
// the moment it is queued until its final status is stored, so a restart can mark
// the ones that never ended `interrupted`.

import type { RunId, UserId, WorkspaceId } from '../protocol/ids.ts';
import {
	isFinalStatus,
	type MetricPoint,
	type RunRecord,
	type RunStatus,
	type RunSummary,
	type TrainingState
} from '../protocol/training.ts';
import type { RelayApi } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { Storage } from '../storage/types.ts';
import { ProgressWriter } from './batcher.ts';
import { TrainingError } from './errors.ts';
import { startWorker, type RunnerHandle, type RunOutcome } from './runner.ts';
import { appendMetrics, liveKey, liveWriter, readDoc, readRun } from './workspaceDocs.ts';
import type { WorkerInput } from './workerProtocol.ts';

export interface BuiltinRunsOptions {
	readonly relay: RelayApi;
	readonly storage: Storage;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly maxConcurrent: number;
	readonly maxQueued: number;
	readonly metricsIntervalMs: number;
	readonly maxBatchPoints: number;
	readonly cpuShare: number;
	/** This process's name in the active-runs table (RunStore owner). */
	readonly instance: string;
}

export type JobInput = Omit<WorkerInput, 'maxBatchPoints' | 'postIntervalMs' | 'cpuShare'>;

interface Job {
	readonly workspace: WorkspaceId;
	readonly id: RunId;
	readonly input: JobInput | null;
}

interface Runnable extends Job {
	readonly input: JobInput;
}

interface Active {
	readonly job: Runnable;
	handle: RunnerHandle | null;
	/** Set by stop() or close(): how the run ends if it has not finished by itself. */
	ending: 'stopped' | 'interrupted' | null;
	finished: Promise<void>;
}

export class BuiltinRuns {
	readonly #o: BuiltinRunsOptions;
	readonly #queues = new Map<WorkspaceId, Runnable[]>();
	readonly #active = new Map<WorkspaceId, Active>();
	readonly #lastStatus = new Map<WorkspaceId, RunStatus>();

	constructor(options: BuiltinRunsOptions) {
		this.#o = options;
	}

	/** Records the run as queued and starts it when its turn comes. */
	async enqueue(
		record: RunRecord,
		workspace: WorkspaceId,
		author: UserId,
		input: JobInput
	): Promise<{ queued: boolean; position: number }> {
		const queue = this.#queues.get(workspace) ?? [];
		if (queue.length >= this.#o.maxQueued) {
			throw new TrainingError(
				409,
				'queue_full',
				`${queue.length} runs are already waiting in this workspace; stop one or wait for them to finish.`
			);
		}
		const id = record.id as RunId;
		await this.#o.storage.markRunActive(workspace, id, this.#o.instance);
		await liveWriter(this.#o.relay, workspace).createRun(record, author);
		const waits =
			this.#active.has(workspace) || this.#active.size >= this.#o.maxConcurrent || queue.length > 0;
		queue.push({ workspace, id, input });
		this.#queues.set(workspace, queue);
		const position = queue.length;
		this.#schedule();
		await this.#publish(workspace);
		return { queued: waits, position: waits ? position : 0 };
	}

	isActive(workspace: WorkspaceId, id: string): boolean {
		return (
			this.#active.get(workspace)?.job.id === id ||
			(this.#queues.get(workspace) ?? []).some((j) => j.id === id)
		);
	}

	/** Stops a queued or running run; false if this server is not running it. */
	async stop(workspace: WorkspaceId, id: string): Promise<boolean> {
		const queue = this.#queues.get(workspace) ?? [];
		const index = queue.findIndex((j) => j.id === id);
		if (index >= 0) {
			const [job] = queue.splice(index, 1);
			if (job) await this.#end(job, 'stopped', 'Stopped before it started.', null);
			return true;
		}
		const active = this.#active.get(workspace);
		if (active?.job.id !== id) return false;
		active.ending ??= 'stopped';
		await active.handle?.stop();
		await active.finished;
		return true;
	}

	/**
	 * Runs still listed active from before this process started can no longer end:
	 * mark them `interrupted`. Returns how many there were.
	 */
	async recover(): Promise<number> {
		const stale = await this.#o.storage.listActiveRuns(this.#o.instance);
		for (const { workspace, run } of stale) {
			if (this.isActive(workspace, run)) continue;
			const record = await readDoc(this.#o.relay, liveKey(workspace), (doc) => readRun(doc, run));
			if (record && isFinalStatus(record.status)) {
				// Its end was written but not the bookkeeping: nothing to change in `live`.
				await this.#o.storage.markRunEnded(workspace, run);
				continue;
			}
			await this.#end(
				{ workspace, id: run, input: null },
				'interrupted',
				'The server stopped while this run was queued or training.',
				null
			);
		}
		if (stale.length > 0)
			this.#o.logger.warn({ runs: stale.length }, 'marked runs interrupted after a restart');
		return stale.length;
	}

	/** Ends every run of this server as interrupted (shutdown); they would not survive it. */
	async close(): Promise<void> {
		const ending: Array<Promise<unknown>> = [];
		for (const [workspace, queue] of this.#queues) {
			for (const job of queue.splice(0)) {
				ending.push(
					this.#end(job, 'interrupted', 'The server shut down before this run started.', null)
				);
			}
			this.#queues.delete(workspace);
		}
		for (const active of this.#active.values()) {
			active.ending = 'interrupted';
			ending.push(active.handle?.stop() ?? Promise.resolve(), active.finished);
		}
		await Promise.all(ending);
	}

	#schedule(): void {
		for (const [workspace, queue] of this.#queues) {
			if (this.#active.size >= this.#o.maxConcurrent) return;
			if (this.#active.has(workspace)) continue;
			const job = queue.shift();
			if (!job) continue;
			const active: Active = { job, handle: null, ending: null, finished: Promise.resolve() };
			this.#active.set(workspace, active);
			active.finished = this.#run(active).catch((err: unknown) => {
				this.#o.logger.error({ err, workspace, run: job.id }, 'training run bookkeeping failed');
			});
		}
	}

	async #run(active: Active): Promise<void> {
		const { job } = active;
		const { relay, logger, clock } = this.#o;
		const live = liveWriter(relay, job.workspace);
		const log = logger.child({ workspace: job.workspace, run: job.id });
		const progress = new ProgressWriter<MetricPoint, RunSummary>(
			(points) => appendMetrics(relay, job.workspace, job.id, points),
			(summary) => live.updateRun(job.id, { summary }),
			this.#o.metricsIntervalMs,
			log
		);
		let outcome: RunOutcome = { status: 'stopped' };
		try {
			await live.updateRun(
				job.id,
				{ status: 'running', started_at: clock.now() },
				{ state: this.#state(job.workspace), at: clock.now() }
			);
			if (active.ending === null) {
				log.info({ rows: job.input.labels.length, params: job.input.params }, 'training started');
				active.handle = startWorker(
					{
						...job.input,
						maxBatchPoints: this.#o.maxBatchPoints,
						cpuShare: this.#o.cpuShare,
						postIntervalMs: Math.min(50, this.#o.metricsIntervalMs)
					},
					{
						started: (trainRows, validation) => log.debug({ trainRows, validation }, 'split'),
						points: (points) => {
							let last: RunSummary | null = null;
							for (const p of points)
								if (p.kind === 'epoch') last = toSummary(p, job.input.params.epochs);
							progress.push(points, last);
						}
					}
				);
				outcome = await active.handle.done;
			}
		} catch (err) {
			log.error({ err }, 'training run failed to start');
			outcome = {
				status: 'failed',
				message: 'The server could not start this run; the error was logged.'
			};
		}
		await progress.flush();
		const status: RunStatus =
			outcome.status === 'stopped' ? (active.ending ?? 'stopped') : outcome.status;
		const message =
			outcome.status === 'failed'
				? outcome.message
				: status === 'interrupted'
					? 'The server shut down while this run was training.'
					: null;
		const summary = outcome.status === 'completed' ? outcome.summary : null;
		log.info({ status, summary, metricWriteFailures: progress.failures }, 'training ended');
		this.#active.delete(job.workspace);
		await this.#end(job, status, message, summary);
		this.#schedule();
	}

	/** Writes the final status together with the training state, then ends the bookkeeping. */
	async #end(
		job: Job,
		status: RunStatus,
		message: string | null,
		summary: RunSummary | null
	): Promise<void> {
		const fields: Partial<RunRecord> = { status, ended_at: this.#o.clock.now(), message };
		if (summary) fields.summary = summary;
		this.#lastStatus.set(job.workspace, status);
		try {
			await liveWriter(this.#o.relay, job.workspace).updateRun(job.id, fields, {
				state: this.#state(job.workspace),
				at: this.#o.clock.now()
			});
			await this.#o.storage.markRunEnded(job.workspace, job.id);
		} catch (err) {
			// Still listed active: the next start marks it interrupted, never running forever.
			this.#o.logger.error(
				{ err, workspace: job.workspace, run: job.id, status },
				'could not record the end of a run'
			);
		}
	}

	/** `live.training`: what the seed calls `training_status`, and the queue (computed when applied). */
	#state(workspace: WorkspaceId): () => Omit<TrainingState, 'updated_at'> {
		return () => {
			const active = this.#active.get(workspace);
			const queued = (this.#queues.get(workspace) ?? []).map((j) => j.id as string);
			return {
				status: active
					? 'running'
					: queued.length > 0
						? 'queued'
						: (this.#lastStatus.get(workspace) ?? 'idle'),
				current_run: active ? active.job.id : null,
				queued
			};
		};
	}

	async #publish(workspace: WorkspaceId): Promise<void> {
		try {
			await liveWriter(this.#o.relay, workspace).setTraining(
				this.#state(workspace),
				this.#o.clock.now()
			);
		} catch (err) {
			this.#o.logger.error({ err, workspace }, 'could not publish the training status');
		}
	}
}

export function toSummary(point: MetricPoint, epochs: number | null): RunSummary {
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
