// Runs reported by scripts elsewhere (with an API key): the script creates the run,
// posts metrics in batches and sets the final status. Writes are batched like the
// built-in runner's, so a chatty script cannot flood the relay.

import { newId, type RunId, type UserId, type WorkspaceId } from '../protocol/ids.ts';
import {
	isFinalStatus,
	type Actor,
	type MetricPoint,
	type RunRecord,
	type RunSummary
} from '../protocol/training.ts';
import type { RelayApi } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';
import { Batcher } from './batcher.ts';
import { toSummary } from './builtinRuns.ts';
import { notFound, TrainingError } from './errors.ts';
import { appendMetrics, liveKey, liveWriter, readDoc, readRun } from './workspaceDocs.ts';

export interface ExternalRunInput {
	name?: string;
	params: Record<string, number | string | boolean>;
	code: Record<string, string>;
	dataset?: string;
	target?: string;
}

export type FinalExternalStatus = 'completed' | 'failed' | 'stopped';

interface Writers {
	readonly metrics: Batcher<MetricPoint>;
	readonly summary: Batcher<RunSummary>;
	readonly epochs: number | null;
}

const MAX_OUTPUT_LINES = 50;
const MAX_LINE_CHARS = 1000;

export class ExternalRuns {
	readonly #relay: RelayApi;
	readonly #clock: Clock;
	readonly #logger: Logger;
	readonly #intervalMs: number;
	readonly #writers = new Map<string, Writers>();

	constructor(relay: RelayApi, clock: Clock, logger: Logger, intervalMs: number) {
		this.#relay = relay;
		this.#clock = clock;
		this.#logger = logger;
		this.#intervalMs = intervalMs;
	}

	async create(
		workspace: WorkspaceId,
		actor: Actor,
		by: UserId,
		input: ExternalRunInput
	): Promise<RunRecord> {
		const id = newId<RunId>();
		const now = this.#clock.now();
		const epochs = typeof input.params.epochs === 'number' ? input.params.epochs : null;
		const record: RunRecord = {
			id,
			source: 'external',
			name:
				input.name ?? `script run ${new Date(now).toISOString().slice(0, 16).replace('T', ' ')}`,
			status: 'running',
			started_by: actor,
			created_at: now,
			started_at: now,
			ended_at: null,
			params: input.params,
			code: input.code,
			dataset: input.dataset ? { id: input.dataset, name: input.dataset } : null,
			target: input.target ?? null,
			summary: {
				epoch: 0,
				epochs,
				loss: null,
				accuracy: null,
				val_loss: null,
				val_accuracy: null,
				elapsed_ms: 0
			},
			message: null,
			output: []
		};
		await liveWriter(this.#relay, workspace).createRun(record, by);
		this.#logger.info({ workspace, run: id, by }, 'external run created');
		return record;
	}

	/** Accepts a batch of points for a running external run; they are written within one interval. */
	async post(workspace: WorkspaceId, run: RunId, points: MetricPoint[]): Promise<void> {
		const writers = await this.#writersFor(workspace, run);
		writers.metrics.push(...points);
		const last = [...points].reverse().find((p) => p.kind === 'epoch') ?? points[points.length - 1];
		if (last) writers.summary.push(toSummary(last, writers.epochs));
	}

	async finish(
		workspace: WorkspaceId,
		run: RunId,
		status: FinalExternalStatus,
		message: string | null,
		output: string[]
	): Promise<RunRecord> {
		const writers = await this.#writersFor(workspace, run);
		await writers.metrics.flush();
		await writers.summary.flush();
		this.#writers.delete(`${workspace}/${run}`);
		const fields: Partial<RunRecord> = {
			status,
			ended_at: this.#clock.now(),
			message,
			output: output.slice(-MAX_OUTPUT_LINES).map((line) => line.slice(0, MAX_LINE_CHARS))
		};
		await liveWriter(this.#relay, workspace).updateRun(run, fields);
		const record = await readDoc(this.#relay, liveKey(workspace), (doc) => readRun(doc, run));
		if (!record) throw notFound(`No run with id "${run}".`);
		return record;
	}

	/** Writes whatever is pending (shutdown). */
	async close(): Promise<void> {
		await Promise.all(
			[...this.#writers.values()].flatMap((w) => [w.metrics.flush(), w.summary.flush()])
		);
		this.#writers.clear();
	}

	async #writersFor(workspace: WorkspaceId, run: RunId): Promise<Writers> {
		const key = `${workspace}/${run}`;
		const existing = this.#writers.get(key);
		if (existing) return existing;
		const record = await readDoc(this.#relay, liveKey(workspace), (doc) => readRun(doc, run));
		if (!record) throw notFound(`No run with id "${run}" in this workspace.`);
		if (record.source !== 'external') {
			throw new TrainingError(
				409,
				'conflict',
				'This run is trained by the server; scripts cannot post to it.'
			);
		}
		if (isFinalStatus(record.status)) {
			throw new TrainingError(409, 'conflict', `This run has already ended (${record.status}).`);
		}
		const log = this.#logger.child({ workspace, run });
		const live = liveWriter(this.#relay, workspace);
		const writers: Writers = {
			metrics: new Batcher(
				(points) => appendMetrics(this.#relay, workspace, run, points),
				this.#intervalMs,
				log
			),
			summary: new Batcher(
				(all) => live.updateRun(run, { summary: all[all.length - 1] }),
				this.#intervalMs * 2,
				log
			),
			epochs: record.summary.epochs
		};
		this.#writers.set(key, writers);
		return writers;
	}
}
