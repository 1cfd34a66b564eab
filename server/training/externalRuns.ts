// Runs reported over HTTP with an API key: by a script on its own (`external`,
// it creates the run) or by an agent that claimed a queued run (`agent`). Both
// post metric points and log lines (batched and bounded, see RunWriter), heartbeat,
// and set the final status. A run whose reporter goes silent ends `lost` (RunQueue).

import { newId, type RunId, type UserId, type WorkspaceId } from '../protocol/ids.ts';
import {
	isFinalStatus,
	type Actor,
	type MetricPoint,
	type RunRecord
} from '../protocol/training.ts';
import type { RelayApi } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { Storage } from '../storage/types.ts';
import { toSummary } from './builtinExecutor.ts';
import { notFound, TrainingError } from './errors.ts';
import { agentClaim, type RunQueue } from './runQueue.ts';
import { RunWriter } from './runWriter.ts';
import { liveKey, liveWriter, readDoc, readRun } from './workspaceDocs.ts';

export interface ExternalRunInput {
	name?: string;
	params: Record<string, number | string | boolean>;
	code: Record<string, string>;
	dataset?: string;
	target?: string;
}

/** `interrupted`: the agent or script was shut down (Ctrl-C, SIGTERM) mid-run. */
export type FinalExternalStatus = 'completed' | 'failed' | 'stopped' | 'interrupted';

export interface ExternalRunsOptions {
	readonly relay: RelayApi;
	readonly storage: Storage;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly intervalMs: number;
	readonly queue: RunQueue;
}

interface Writers {
	readonly writer: RunWriter;
	readonly epochs: number | null;
	/** Who holds the run's claim in the queue (heartbeats name it). */
	readonly claimedBy: string;
	lastBeat: number;
}

const MAX_OUTPUT_LINES = 50;
const MAX_LINE_CHARS = 1000;
/** Posting points counts as a heartbeat, at most this often (older clients never heartbeat). */
const BEAT_EVERY_MS = 2000;
export const SCRIPT_CLAIM = 'script';

export class ExternalRuns {
	readonly #o: ExternalRunsOptions;
	readonly #writers = new Map<string, Promise<Writers>>();

	constructor(options: ExternalRunsOptions) {
		this.#o = options;
	}

	async create(
		workspace: WorkspaceId,
		actor: Actor,
		by: UserId,
		input: ExternalRunInput
	): Promise<RunRecord> {
		const id = newId<RunId>();
		const now = this.#o.clock.now();
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
			output: [],
			runner: 'external',
			where: `script of ${actor.name}`
		};
		await liveWriter(this.#o.relay, workspace).createRun(record, by);
		await this.#o.storage.addActiveRun({
			workspace,
			run: id,
			runner: 'external',
			agent: '',
			state: 'running',
			owner: '',
			claimedBy: SCRIPT_CLAIM,
			queuedAt: now,
			heartbeatAt: now,
			stopRequested: false,
			requeue: false
		});
		await this.#o.queue.publish(workspace);
		this.#o.logger.info({ workspace, run: id, by }, 'external run created');
		return record;
	}

	/** Accepts a batch of points for a running run; they are written within one interval. */
	async post(
		workspace: WorkspaceId,
		run: RunId,
		points: MetricPoint[],
		agent?: string
	): Promise<void> {
		const writers = await this.#writersFor(workspace, run, agent);
		const last = [...points].reverse().find((p) => p.kind === 'epoch') ?? points[points.length - 1];
		writers.writer.points(points, last ? toSummary(last, writers.epochs) : null);
		await this.#beat(workspace, run, writers, false);
	}

	/** Accepts log lines (the script's output that is not a metric). */
	async log(workspace: WorkspaceId, run: RunId, lines: string[], agent?: string): Promise<void> {
		const writers = await this.#writersFor(workspace, run, agent);
		writers.writer.log(lines);
		await this.#beat(workspace, run, writers, false);
	}

	/** The reporter is alive; returns whether someone asked the run to stop. */
	async heartbeat(workspace: WorkspaceId, run: RunId, agent?: string): Promise<{ stop: boolean }> {
		const writers = await this.#writersFor(workspace, run, agent);
		return this.#beat(workspace, run, writers, true);
	}

	async #beat(
		workspace: WorkspaceId,
		run: RunId,
		writers: Writers,
		always: boolean
	): Promise<{ stop: boolean }> {
		const now = this.#o.clock.now();
		if (!always && now - writers.lastBeat < BEAT_EVERY_MS) return { stop: false };
		writers.lastBeat = now;
		const row = await this.#o.storage.heartbeatRun(workspace, run, writers.claimedBy, now);
		if (!row) {
			this.#writers.delete(`${workspace}/${run}`);
			throw new TrainingError(
				409,
				'conflict',
				'This run is no longer yours to report: it was stopped or marked lost.'
			);
		}
		return { stop: row.stopRequested };
	}

	async finish(
		workspace: WorkspaceId,
		run: RunId,
		status: FinalExternalStatus,
		message: string | null,
		output: string[],
		agent?: string
	): Promise<RunRecord> {
		const writers = await this.#writersFor(workspace, run, agent);
		await writers.writer.flush();
		this.#writers.delete(`${workspace}/${run}`);
		const row = (await this.#o.storage.listQueue(workspace)).find((r) => r.run === run);
		let again: RunRecord | null = null;
		if (status === 'interrupted' && row?.requeue && !row.stopRequested) {
			// An agent shut down mid-run (a scheduler's time limit, a reboot): like a lost agent,
			// the run is queued again when its starter asked for it.
			const from = await readDoc(this.#o.relay, liveKey(workspace), (doc) => readRun(doc, run));
			if (from) {
				again = await this.#o.queue
					.requeue(workspace, from, null, { requeue: true })
					.catch((err: unknown) => {
						if (!(err instanceof TrainingError)) throw err;
						message = `${message ?? 'Interrupted.'} It could not be queued again: ${err.message}`;
						return null;
					});
			}
		}
		const fields: Partial<RunRecord> = {
			status,
			ended_at: this.#o.clock.now(),
			message: again
				? `${message ?? 'Interrupted.'} Queued again as "${again.name}".`.slice(0, 2000)
				: message,
			output: output.slice(-MAX_OUTPUT_LINES).map((line) => line.slice(0, MAX_LINE_CHARS)),
			log: writers.writer.logSize.lines > 0 ? writers.writer.logSize : null
		};
		await this.#o.storage.markRunEnded(workspace, run);
		await liveWriter(this.#o.relay, workspace).updateRun(run, fields);
		await this.#o.queue.ended(workspace, run, status);
		const record = await readDoc(this.#o.relay, liveKey(workspace), (doc) => readRun(doc, run));
		if (!record) throw notFound(`No run with id "${run}".`);
		return record;
	}

	/** Writes whatever is pending (shutdown). */
	async close(): Promise<void> {
		await Promise.all(
			[...this.#writers.values()].map(async (w) => (await w).writer.flush().catch(() => undefined))
		);
		this.#writers.clear();
	}

	/** One writer per run, created once even when two posts race to create it. */
	#writersFor(workspace: WorkspaceId, run: RunId, agent: string | undefined): Promise<Writers> {
		const key = `${workspace}/${run}`;
		let writers = this.#writers.get(key);
		if (!writers) {
			writers = this.#createWriters(workspace, run);
			this.#writers.set(key, writers);
			// A refused run (unknown, ended, built-in) keeps no entry.
			writers.catch(() => this.#writers.delete(key));
		}
		return writers.then((w) => {
			if (w.claimedBy !== SCRIPT_CLAIM && agent !== undefined && w.claimedBy !== agentClaim(agent))
				throw new TrainingError(409, 'conflict', `Another agent runs this run (${w.claimedBy}).`);
			return w;
		});
	}

	async #createWriters(workspace: WorkspaceId, run: RunId): Promise<Writers> {
		const record = await readDoc(this.#o.relay, liveKey(workspace), (doc) => readRun(doc, run));
		if (!record) throw notFound(`No run with id "${run}" in this workspace.`);
		const runner = record.runner ?? record.source;
		const trainedHere = (): TrainingError =>
			new TrainingError(
				409,
				'conflict',
				'This run is trained by the server; scripts cannot post to it.'
			);
		if (runner !== 'external' && runner !== 'agent' && runner !== 'any') throw trainedHere();
		if (isFinalStatus(record.status) || record.status === 'queued') {
			throw new TrainingError(
				409,
				'conflict',
				`This run is ${record.status}; it takes no reports.`
			);
		}
		const row = (await this.#o.storage.listQueue(workspace)).find((r) => r.run === run);
		if (!row)
			throw new TrainingError(409, 'conflict', 'This run is no longer active (stopped or lost).');
		// A run for "any" runner takes reports only when an agent claimed it (SWEEP3).
		if (runner === 'any' && !row.claimedBy.startsWith(agentClaim(''))) throw trainedHere();
		const log = this.#o.logger.child({ workspace, run });
		return {
			writer: new RunWriter(this.#o.relay, workspace, run, this.#o.intervalMs, log),
			epochs: record.summary.epochs,
			claimedBy: row.claimedBy,
			lastBeat: 0
		};
	}
}
