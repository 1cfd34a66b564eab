// The training part's one entry point for the HTTP layer: built-in runs, runs
// reported by scripts, data sets, annotations and API keys.

import { availableParallelism } from 'node:os';
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
import { ApiKeyService } from './apiKeyService.ts';
import { BuiltinRuns } from './builtinRuns.ts';
import type { CsvLimits } from './csv.ts';
import { DatasetService, type DatasetInfo } from './datasetService.ts';
import { IRIS_ID, toTrainingData } from './datasets.ts';
import { notFound, TrainingError } from './errors.ts';
import { ExternalRuns } from './externalRuns.ts';
import { parseHyperparameters, snapshotParams } from './hyperparameters.ts';
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
}

export interface StartRequest {
	readonly dataset?: string;
	readonly target?: string;
	readonly name?: string;
}

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
	readonly #relay: RelayApi;
	readonly #clock: Clock;
	readonly #logger: Logger;
	readonly #builtin: BuiltinRuns;

	constructor(options: TrainingServiceOptions) {
		const { relay, storage, clock } = options;
		const logger = options.logger.child({ part: 'training' });
		const metricsIntervalMs = options.metricsIntervalMs ?? 250;
		this.#relay = relay;
		this.#clock = clock;
		this.#logger = logger;
		this.datasets = new DatasetService(
			storage,
			clock,
			options.csvLimits,
			options.datasetQuotaBytes
		);
		this.apiKeys = new ApiKeyService(storage, clock);
		this.external = new ExternalRuns(relay, clock, logger, metricsIntervalMs);
		this.#builtin = new BuiltinRuns({
			relay,
			storage,
			clock,
			logger,
			maxConcurrent: options.maxConcurrent ?? Math.max(1, availableParallelism() - 1),
			maxQueued: options.maxQueued ?? 5,
			metricsIntervalMs,
			maxBatchPoints: 2000,
			cpuShare: Math.min(1, Math.max(0.05, options.cpuShare ?? 0.25)),
			instance: options.instance ?? ''
		});
	}

	/** Call once at startup, before serving: runs left active by a previous process end `interrupted`. */
	recoverInterrupted(): Promise<number> {
		return this.#builtin.recover();
	}

	/** Call before the relay closes: running runs end `interrupted`, pending metrics are written. */
	async close(): Promise<void> {
		await this.#builtin.close();
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

	/** Starts a built-in run (queued behind the workspace's current one, if any). */
	async start(
		workspace: WorkspaceId,
		actor: Actor,
		by: UserId,
		request: StartRequest
	): Promise<StartResult> {
		const { hyperparameters, config } = await this.currentParams(workspace);
		const params = parseHyperparameters(hyperparameters);
		if (!params.ok) throw new TrainingError(400, 'invalid_hyperparameters', params.message);
		const datasetId = request.dataset ?? IRIS_ID;
		const { table, info } = await this.datasets.table(workspace, datasetId);
		const chosen =
			config.dataset === datasetId && typeof config.target === 'string' ? config.target : null;
		const target = request.target ?? chosen ?? info.default_target;
		const data = toTrainingData(table, target);
		if (!data.ok) throw new TrainingError(400, 'invalid_request', `${info.name}: ${data.message}`);
		const code = await this.currentCode(workspace);
		const now = this.#clock.now();
		const record: RunRecord = {
			id: newId<RunId>(),
			source: 'builtin',
			name:
				request.name ?? `${info.name} · ${params.value.optimizer} lr ${params.value.learning_rate}`,
			status: 'queued',
			started_by: actor,
			created_at: now,
			started_at: null,
			ended_at: null,
			params: snapshotParams({ ...params.value, ...hyperparameters }),
			code,
			dataset: { id: info.id, name: info.name },
			target,
			summary: {
				epoch: 0,
				epochs: params.value.epochs,
				loss: null,
				accuracy: null,
				val_loss: null,
				val_accuracy: null,
				elapsed_ms: 0
			},
			message: null,
			output: []
		};
		const { features, labels, featureNames, classes } = data.value;
		const { queued, position } = await this.#builtin.enqueue(record, workspace, by, {
			features,
			labels,
			numFeatures: featureNames.length,
			numClasses: classes.length,
			params: params.value
		});
		this.#logger.info({ workspace, run: record.id, by, queued }, 'training run requested');
		const message = queued
			? `Another run is training; this one is queued (position ${position}) and starts when it ends.`
			: 'Training started.';
		return { run: record, queued, position, message };
	}

	/** Stops a queued or running built-in run; 409 if it already ended or reports from a script. */
	async stop(workspace: WorkspaceId, run: RunId): Promise<RunRecord> {
		const before = await this.getRecord(workspace, run);
		if (before.source === 'external') {
			throw new TrainingError(
				409,
				'conflict',
				'This run reports from a script; the script ends it.'
			);
		}
		if (!(await this.#builtin.stop(workspace, run))) {
			throw new TrainingError(409, 'conflict', `This run is not running (it is ${before.status}).`);
		}
		return this.getRecord(workspace, run);
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
