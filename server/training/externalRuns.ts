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
import { ProgressWriter } from './batcher.ts';
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
	readonly progress: ProgressWriter<MetricPoint, RunSummary>;
	readonly epochs: number | null;
}

const MAX_OUTPUT_LINES = 50;
const MAX_LINE_CHARS = 1000;

export class ExternalRuns {
	readonly #relay: RelayApi;
	readonly #clock: Clock;
	readonly #logger: Logger;
	readonly #intervalMs: number;
	readonly #writers = new Map<string, Promise<Writers>>();

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
		const last = [...points].reverse().find((p) => p.kind === 'epoch') ?? points[points.length - 1];
		writers.progress.push(points, last ? toSummary(last, writers.epochs) : null);
	}

	async finish(
		workspace: WorkspaceId,
		run: RunId,
		status: FinalExternalStatus,
		message: string | null,
		output: string[]
	): Promise<RunRecord> {
		const writers = await this.#writersFor(workspace, run);
		await writers.progress.flush();
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
		await Promise.all([...this.#writers.values()].map(async (w) => (await w).progress.flush()));
		this.#writers.clear();
	}

	/** One writer per run, created once even when two posts race to create it. */
	#writersFor(workspace: WorkspaceId, run: RunId): Promise<Writers> {
		const key = `${workspace}/${run}`;
		let writers = this.#writers.get(key);
		if (!writers) {
			writers = this.#createWriters(workspace, run);
			this.#writers.set(key, writers);
			// A refused run (unknown, ended, built-in) keeps no entry.
			writers.catch(() => this.#writers.delete(key));
		}
		return writers;
	}

	async #createWriters(workspace: WorkspaceId, run: RunId): Promise<Writers> {
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
		return {
			progress: new ProgressWriter<MetricPoint, RunSummary>(
				(points) => appendMetrics(this.#relay, workspace, run, points),
				(summary) => live.updateRun(run, { summary }),
				this.#intervalMs,
				log
			),
			epochs: record.summary.epochs
		};
	}
}
