// The training part's one entry point for the HTTP layer: built-in runs, runs
// reported by scripts, data sets, annotations and API keys.

import { availableParallelism } from 'node:os';
import * as Y from 'yjs';
import { newId, type RunId, type UserId, type WorkspaceId } from '../protocol/ids.ts';
import { schema } from '../protocol/docs.ts';
import {
	isFinalStatus,
	type Actor,
	type Annotation,
	type MetricPoint,
	type RunRecord
} from '../protocol/training.ts';
import type { RelayApi } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { Storage } from '../storage/types.ts';
import type { RunnerKind } from '../storage/types.ts';
import { ApiKeyService } from './apiKeyService.ts';
import { BuiltinExecutor } from './builtinExecutor.ts';
import type { CsvLimits } from './csv.ts';
import { DatasetService, type DatasetInfo } from './datasetService.ts';
import { IRIS_ID, toTrainingData } from './datasets.ts';
import { notFound, TrainingError } from './errors.ts';
import type { Availability, ExecJob, Executor } from './executor.ts';
import { entryFile } from './entry.ts';
import { ExternalRuns } from './externalRuns.ts';
import { parseHyperparameters, snapshotParams } from './hyperparameters.ts';
import { checkRunName, sameName } from './runNames.ts';
import { SweepService } from './sweepService.ts';
import { RunQueue } from './runQueue.ts';
import {
	liveKey,
	liveWriter,
	readCodeFiles,
	readConfig,
	readDoc,
	readHyperparameters,
	readMetrics,
	readRun,
	readRuns,
	runKey
} from './workspaceDocs.ts';

export interface TrainingServiceOptions {
	readonly relay: RelayApi;
	readonly storage: Storage;
	readonly clock: Clock;
	readonly logger: Logger;
	/** Workers training at once on this server (default: cores − 1, at least 1). */
	readonly maxConcurrent?: number;
	/** Runs waiting per workspace before a start is refused (default 5). */
	readonly maxQueued?: number;
	/** At most one progress write (metrics + summary, one commit) per run per this many ms (default 250). */
	readonly metricsIntervalMs?: number;
	readonly csvLimits?: CsvLimits;
	/** Bytes of uploaded data sets per workspace (DATASET_QUOTA_MB). */
	readonly datasetQuotaBytes?: number;
	/**
	 * Share of a core each training worker may use (default 0.25): it rests between
	 * batches beyond that, so a run slows down rather than the relay.
	 */
	readonly cpuShare?: number;
	/**
	 * This process's name among several sharing one database (default ''): at
	 * start it marks only its own unfinished runs interrupted, never another
	 * live process's.
	 */
	readonly instance?: string;
	/** Executors besides the built-in model (the sandbox), in order of preference. */
	readonly executors?: readonly Executor[];
	/** Heartbeat and lost-run timing of the queue (tests shorten them). */
	readonly heartbeatMs?: number;
	readonly lostAfterMs?: number;
	readonly pollMs?: number;
}

export interface StartRequest {
	readonly runner?: 'server' | 'agent' | 'builtin';
	/** With runner `agent`: only the agent of this name may take it. */
	readonly agent?: string;
	/** Queue it again if its agent is lost. */
	readonly requeue?: boolean;
	readonly dataset?: string;
	readonly target?: string;
	readonly name?: string;
}

/** The file a script run starts with, unless the workspace's config names another. */

export interface StartResult {
	readonly run: RunRecord;
	readonly queued: boolean;
	readonly position: number;
	readonly message: string;
}

export class TrainingService {
	readonly datasets: DatasetService;
	readonly apiKeys: ApiKeyService;
	readonly external: ExternalRuns;
	readonly queue: RunQueue;
	readonly sweeps: SweepService;
	/** How often agents and scripts heartbeat. */
	readonly heartbeatMs: number;
	readonly #relay: RelayApi;
	readonly #clock: Clock;
	readonly #logger: Logger;
	readonly #executors: readonly Executor[];
	readonly #storage: Storage;

	constructor(options: TrainingServiceOptions) {
		const { relay, storage, clock } = options;
		const logger = options.logger.child({ part: 'training' });
		const metricsIntervalMs = options.metricsIntervalMs ?? 250;
		this.#relay = relay;
		this.#storage = storage;
		this.heartbeatMs = options.heartbeatMs ?? 5000;
		this.#clock = clock;
		this.#logger = logger;
		this.datasets = new DatasetService(
			storage,
			clock,
			options.csvLimits,
			options.datasetQuotaBytes
		);
		this.apiKeys = new ApiKeyService(storage, clock);
		const builtin = new BuiltinExecutor({
			prepare: (job) => this.#builtinInput(job),
			maxBatchPoints: 2000,
			cpuShare: Math.min(1, Math.max(0.05, options.cpuShare ?? 0.25)),
			postIntervalMs: Math.min(50, metricsIntervalMs)
		});
		this.#executors = [...(options.executors ?? []), builtin];
		this.queue = new RunQueue({
			relay,
			storage,
			clock,
			logger,
			executors: this.#executors,
			instance: options.instance ?? '',
			maxConcurrent: options.maxConcurrent ?? Math.max(1, availableParallelism() - 1),
			maxQueued: options.maxQueued ?? 5,
			metricsIntervalMs,
			heartbeatMs: this.heartbeatMs,
			lostAfterMs: options.lostAfterMs,
			pollMs: options.pollMs,
			dataset: (workspace, run) =>
				run.dataset ? this.datasets.csv(workspace, run.dataset.id) : Promise.resolve(null)
		});
		this.sweeps = new SweepService({ relay, storage, clock, logger, runs: this });
		this.external = new ExternalRuns({
			relay,
			storage,
			clock,
			logger,
			intervalMs: metricsIntervalMs,
			queue: this.queue
		});
	}

	/** Where runs can run on this server: `server` and `builtin`, each available or why not. */
	runners(): Record<'server' | 'builtin', Availability> {
		const of = (kind: 'server' | 'builtin'): Availability =>
			this.#executors.find((e) => e.kind === kind)?.availability() ?? {
				available: false,
				reason: 'This server has no sandbox for scripts (bubblewrap is not set up).'
			};
		return { server: of('server'), builtin: of('builtin') };
	}

	/** The runner a start without one gets: the server's sandbox where available. */
	defaultRunner(): 'server' | 'builtin' {
		return this.runners().server.available ? 'server' : 'builtin';
	}

	/** Call once at startup, before serving: runs left active by a previous process end `interrupted`. */
	async recoverInterrupted(): Promise<number> {
		const ended = await this.queue.recover();
		this.queue.startTimers();
		await this.queue.pump();
		return ended;
	}

	/** Call before the relay closes: running runs end `interrupted`, pending metrics are written. */
	async close(): Promise<void> {
		await this.queue.close();
		await this.external.close();
	}

	/** Checks and stores an upload, and tells every open page (live `datasets`, DATA6). */
	async uploadDataset(
		workspace: WorkspaceId,
		name: string,
		content: Uint8Array,
		by: UserId
	): Promise<DatasetInfo> {
		const dataset = await this.datasets.upload(workspace, name, content, by);
		await this.#relay.write(liveKey(workspace), by, (doc) => {
			doc
				.getMap(schema.live.datasets)
				.set(dataset.id, { name: dataset.name, rows: dataset.rows, at: dataset.created_at });
		});
		return dataset;
	}

	/** Deletes an upload unless a queued or running run uses it (409, DATA6). */
	async removeDataset(workspace: WorkspaceId, id: string, by: UserId): Promise<void> {
		const users = await readDoc(this.#relay, liveKey(workspace), (doc) =>
			readRuns(doc).filter((r) => !isFinalStatus(r.status) && r.dataset?.id === id)
		);
		if (users.length > 0) {
			throw new TrainingError(
				409,
				'conflict',
				`The data set is used by ${users.map((r) => r.name).join(', ')} (queued or running); stop ${users.length === 1 ? 'it' : 'them'} or wait until ${users.length === 1 ? 'it ends' : 'they end'}, then delete it.`
			);
		}
		await this.datasets.remove(workspace, id);
		await this.#relay.write(liveKey(workspace), by, (doc) => {
			doc.getMap(schema.live.datasets).delete(id);
		});
	}

	/** Queues a run on the asked runner (the server's sandbox, an agent, or the built-in model). */
	async start(
		workspace: WorkspaceId,
		actor: Actor,
		by: UserId,
		request: StartRequest
	): Promise<StartResult> {
		const { record, where } = await this.prepareRun(workspace, actor, request);
		const runner = record.runner ?? 'builtin';
		const { queued, position } = await this.queue.enqueue(record, workspace, by, {
			runner,
			agent: record.agent ?? null,
			requeue: request.requeue ?? false
		});
		this.#logger.info({ workspace, run: record.id, by, runner, queued }, 'training run requested');
		return {
			run: record,
			queued,
			position,
			message: startMessage(runner, where, queued, position)
		};
	}

	/**
	 * A queued run's record with the workspace's current code, hyperparameters (with
	 * `overrides` on top: a sweep's configuration) and data, checked for its runner.
	 */
	async prepareRun(
		workspace: WorkspaceId,
		actor: Actor,
		request: Omit<StartRequest, 'runner'> & { runner?: RunnerKind },
		overrides: Record<string, number | string | boolean> = {}
	): Promise<{ record: RunRecord; where: string }> {
		const runner: RunnerKind = request.runner ?? this.defaultRunner();
		if (runner === 'external') throw new Error('a script creates its own runs');
		if (runner === 'server' || runner === 'builtin') {
			const availability = this.runners()[runner];
			if (!availability.available)
				throw new TrainingError(409, 'runner_unavailable', availability.reason);
		}
		if (request.agent !== undefined && runner !== 'agent')
			throw new TrainingError(
				400,
				'invalid_request',
				'"agent" names an agent: use it with "runner": "agent".'
			);
		const current = await this.currentParams(workspace);
		const config = current.config;
		const hyperparameters = { ...current.hyperparameters, ...overrides };
		const params = parseHyperparameters(hyperparameters);
		// The built-in model needs its hyperparameters valid; a script reads what it wants.
		if (runner === 'builtin' && !params.ok)
			throw new TrainingError(400, 'invalid_hyperparameters', params.message);
		const datasetId = request.dataset ?? IRIS_ID;
		const { table, info } = await this.datasets.table(workspace, datasetId);
		const chosen =
			config.dataset === datasetId && typeof config.target === 'string' ? config.target : null;
		const target = request.target ?? chosen ?? info.default_target;
		if (runner === 'builtin') {
			const data = toTrainingData(table, target);
			if (!data.ok)
				throw new TrainingError(400, 'invalid_request', `${info.name}: ${data.message}`);
		}
		const code = await this.currentCode(workspace);
		const entry = runner === 'builtin' ? null : entryFile(config, code);
		const epochs = typeof hyperparameters.epochs === 'number' ? hyperparameters.epochs : null;
		const now = this.#clock.now();
		const where =
			runner === 'agent'
				? request.agent
					? `agent ${request.agent}`
					: 'any agent'
				: runner === 'any'
					? "the server's sandbox or an agent"
					: runner;
		const label = params.ok
			? `${params.value.optimizer} lr ${params.value.learning_rate}`
			: 'current hyperparameters';
		const record: RunRecord = {
			id: newId<RunId>(),
			source: runner === 'builtin' ? 'builtin' : 'external',
			name:
				request.name ?? (runner === 'builtin' ? `${info.name} · ${label}` : `${entry} · ${label}`),
			status: 'queued',
			started_by: actor,
			created_at: now,
			started_at: null,
			ended_at: null,
			params: snapshotParams(params.ok ? { ...params.value, ...hyperparameters } : hyperparameters),
			code,
			dataset: { id: info.id, name: info.name },
			target,
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
			runner,
			agent: runner === 'agent' ? (request.agent ?? null) : null,
			where: null,
			entry,
			log: null,
			requeue: request.requeue ?? false,
			requeue_of: null
		};
		return { record, where };
	}

	/** Queues a new run with the exact code, parameters and data of an ended one. */
	async requeue(
		workspace: WorkspaceId,
		actor: Actor,
		by: UserId,
		run: RunId
	): Promise<StartResult> {
		const from = await this.getRecord(workspace, run);
		if (!isFinalStatus(from.status))
			throw new TrainingError(409, 'conflict', `This run is still ${from.status}; stop it first.`);
		const runner = from.runner ?? from.source;
		if (runner === 'server' || runner === 'builtin') {
			const availability = this.runners()[runner];
			if (!availability.available)
				throw new TrainingError(409, 'runner_unavailable', availability.reason);
		}
		const record = await this.queue.requeue(workspace, from, by, { actor });
		const fresh = await this.getRecord(workspace, record.id as RunId);
		const queued = fresh.status === 'queued';
		return {
			run: fresh,
			queued,
			position: queued ? 1 : 0,
			message: queued ? `Queued again as "${record.name}".` : `Started again as "${record.name}".`
		};
	}

	/**
	 * Stops a queued or running run, recording who stopped it (RUNNAME3); 409 if it
	 * already ended or reports from a script.
	 */
	async stop(workspace: WorkspaceId, run: RunId, actor: Actor | null = null): Promise<RunRecord> {
		const before = await this.getRecord(workspace, run);
		if ((before.runner ?? before.source) === 'external') {
			throw new TrainingError(
				409,
				'conflict',
				'This run reports from a script; the script ends it.'
			);
		}
		if (isFinalStatus(before.status)) {
			throw new TrainingError(409, 'conflict', `This run is not running (it is ${before.status}).`);
		}
		if (actor) await liveWriter(this.#relay, workspace).updateRun(run, { stopped_by: actor });
		const result = await this.queue.stop(workspace, run);
		if (!result) {
			throw new TrainingError(409, 'conflict', `This run is not running (it is ${before.status}).`);
		}
		return this.getRecord(workspace, run);
	}

	/** Renames a run (RUNNAME2): the name is checked and must be free in the workspace. */
	async rename(workspace: WorkspaceId, run: RunId, name: string, by: UserId): Promise<RunRecord> {
		const problem = checkRunName(name);
		if (problem) throw new TrainingError(400, 'invalid_request', problem);
		const wanted = name.trim();
		const runs = await this.listRuns(workspace);
		if (!runs.some((r) => r.id === run))
			throw notFound(`No run with id "${run}" in this workspace.`);
		const other = runs.find((r) => r.id !== run && sameName(r.name, wanted));
		if (other)
			throw new TrainingError(409, 'conflict', `Another run is already called "${other.name}".`);
		await this.#relay.write(liveKey(workspace), by, (doc) => {
			const entry = doc.getMap<unknown>(schema.live.runs).get(run);
			if (entry instanceof Y.Map) entry.set('name', wanted);
		});
		return this.getRecord(workspace, run);
	}

	async #builtinInput(job: ExecJob) {
		const parsed = parseHyperparameters(job.run.params);
		if (!parsed.ok) throw new TrainingError(400, 'invalid_hyperparameters', parsed.message);
		const datasetId = job.run.dataset?.id ?? IRIS_ID;
		const { table, info } = await this.datasets.table(job.workspace, datasetId);
		const data = toTrainingData(table, job.run.target ?? info.default_target);
		if (!data.ok) throw new TrainingError(400, 'invalid_request', `${info.name}: ${data.message}`);
		const { features, labels, featureNames, classes } = data.value;
		return {
			features,
			labels,
			numFeatures: featureNames.length,
			numClasses: classes.length,
			params: parsed.value
		};
	}

	/** The workspace's queue: what waits, what runs where (oldest first). */
	async queueOf(workspace: WorkspaceId) {
		const rows = await this.#storage.listQueue(workspace);
		return rows.map((r) => ({
			run: r.run,
			runner: r.runner,
			agent: r.agent || null,
			state: r.state,
			claimed_by: r.claimedBy || null,
			queued_at: r.queuedAt,
			heartbeat_at: r.heartbeatAt || null,
			stop_requested: r.stopRequested
		}));
	}

	listRuns(workspace: WorkspaceId): Promise<RunRecord[]> {
		return readDoc(this.#relay, liveKey(workspace), readRuns);
	}

	async getRecord(workspace: WorkspaceId, run: RunId): Promise<RunRecord> {
		const record = await readDoc(this.#relay, liveKey(workspace), (doc) => readRun(doc, run));
		if (!record) throw notFound(`No run with id "${run}" in this workspace.`);
		return record;
	}

	async getRun(
		workspace: WorkspaceId,
		run: RunId
	): Promise<{ run: RunRecord; metrics: MetricPoint[] }> {
		const record = await this.getRecord(workspace, run);
		const metrics = await readDoc(this.#relay, runKey(workspace, run), readMetrics);
		return { run: record, metrics };
	}

	async annotate(
		workspace: WorkspaceId,
		actor: Actor,
		by: UserId,
		input: { run: string; step: number; metric: string; text: string }
	): Promise<Annotation> {
		await this.getRecord(workspace, input.run as RunId);
		const annotation: Annotation = {
			id: newId(),
			...input,
			text: input.text.trim(),
			author: actor,
			at: this.#clock.now()
		};
		await liveWriter(this.#relay, workspace).addAnnotation(annotation, by);
		return annotation;
	}

	currentParams(
		workspace: WorkspaceId
	): Promise<{ hyperparameters: Record<string, unknown>; config: Record<string, unknown> }> {
		return readDoc(this.#relay, { workspace, doc: 'params' }, (doc) => ({
			hyperparameters: readHyperparameters(doc),
			config: readConfig(doc)
		}));
	}

	/** The hyperparameters as a run records them (scalars only). */
	async currentParamsSnapshot(
		workspace: WorkspaceId
	): Promise<Record<string, number | string | boolean>> {
		return snapshotParams((await this.currentParams(workspace)).hyperparameters);
	}

	currentCode(workspace: WorkspaceId): Promise<Record<string, string>> {
		return readDoc(this.#relay, { workspace, doc: 'code' }, readCodeFiles);
	}
}

function startMessage(
	runner: RunnerKind,
	where: string,
	queued: boolean,
	position: number
): string {
	if (runner === 'agent')
		return `Queued for ${where} (position ${position}); it starts when an agent takes it.`;
	if (!queued) return runner === 'server' ? 'Training started on the server.' : 'Training started.';
	return `Another run is training; this one is queued (position ${position}) and starts when it ends.`;
}
