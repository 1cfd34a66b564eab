// Sweeps (SWEEP1-6): a definition becomes one queued run per configuration, all
// through the run queue, so the server's sandbox and every agent take them and
// each is handed out once (RUNQ6). The sweep is stored (storage `sweeps`) and
// shown to everyone in `live.sweeps`; its progress and best run are read from
// its runs in `live.runs` (server/protocol/sweeps.ts).

import { newId, type RunId, type UserId, type WorkspaceId } from '../protocol/ids.ts';
import { schema } from '../protocol/docs.ts';
import {
	checkSweep,
	describeConfiguration,
	sweepProgress,
	type SweepDefinition,
	type SweepProgress,
	type SweepRecord
} from '../protocol/sweeps.ts';
import { isFinalStatus, type Actor, type RunRecord } from '../protocol/training.ts';
import type { RelayApi } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { Storage, SweepRow } from '../storage/types.ts';
import { notFound, TrainingError } from './errors.ts';
import type { Availability } from './executor.ts';
import type { RunQueue } from './runQueue.ts';
import { liveKey, readDoc, readRuns } from './workspaceDocs.ts';

/** What sweeps need of the training service (kept narrow: no import cycle). */
export interface SweepRuns {
	readonly queue: RunQueue;
	runners(): Record<'server' | 'builtin', Availability>;
	currentParams(workspace: WorkspaceId): Promise<{ hyperparameters: Record<string, unknown> }>;
	prepareRun(
		workspace: WorkspaceId,
		actor: Actor,
		request: { runner: SweepDefinition['runner']; name: string },
		overrides: Record<string, number | string | boolean>
	): Promise<{ record: RunRecord }>;
	stop(workspace: WorkspaceId, run: RunId, actor: Actor | null): Promise<RunRecord>;
}

export interface SweepServiceOptions {
	readonly relay: RelayApi;
	readonly storage: Storage;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly runs: SweepRuns;
}

export interface SweepView {
	readonly sweep: SweepRecord;
	readonly progress: SweepProgress;
	/** The sweep's runs, newest first. */
	readonly runs: string[];
}

export class SweepService {
	readonly #o: SweepServiceOptions;

	constructor(options: SweepServiceOptions) {
		this.#o = options;
	}

	/** Checks the definition, then queues one run per configuration (SWEEP1, SWEEP2). */
	async create(
		workspace: WorkspaceId,
		actor: Actor,
		by: UserId,
		definition: SweepDefinition
	): Promise<SweepView> {
		const { runs, relay, storage, clock } = this.#o;
		if (definition.runner === 'server' || definition.runner === 'builtin') {
			const availability = runs.runners()[definition.runner];
			if (!availability.available)
				throw new TrainingError(409, 'runner_unavailable', availability.reason);
		}
		const { hyperparameters } = await runs.currentParams(workspace);
		const checked = checkSweep(definition, Object.keys(hyperparameters));
		if (!checked.ok) throw new TrainingError(400, 'invalid_request', checked.message);
		const existing = await storage.listSweeps(workspace);
		const id = newId();
		const name = definition.name?.trim() || `Sweep ${existing.length + 1}`;
		// Every configuration is prepared (and checked for its runner) before any is queued.
		const records: RunRecord[] = [];
		for (const [index, configuration] of checked.configurations.entries()) {
			const { record } = await runs.prepareRun(
				workspace,
				actor,
				{
					runner: definition.runner,
					name: `${name} #${index + 1} · ${describeConfiguration(configuration)}`
				},
				configuration
			);
			records.push({ ...record, sweep: id, sweep_index: index });
		}
		const now = clock.now();
		const sweep: SweepRecord = {
			id,
			name,
			definition: { ...definition, name },
			total: records.length,
			created_by: actor,
			created_at: now,
			state: 'running',
			stopped_by: null,
			ended_at: null
		};
		await storage.addSweep({
			workspace,
			id,
			// The record as created (definition, size, who): enough to rebuild `live`'s entry.
			definition: JSON.stringify(sweep),
			createdBy: actor.id,
			createdAt: now,
			state: 'running',
			endedAt: null
		});
		await relay.write(liveKey(workspace), by, (doc) => {
			doc.getMap<SweepRecord>(schema.live.sweeps).set(id, sweep);
		});
		for (const record of records) {
			await runs.queue.enqueue(record, workspace, by, {
				runner: definition.runner,
				agent: null,
				requeue: false,
				sweep: id
			});
		}
		this.#o.logger.info(
			{ workspace, sweep: id, runs: records.length, runner: definition.runner },
			'sweep started'
		);
		return this.get(workspace, id);
	}

	async list(workspace: WorkspaceId): Promise<SweepView[]> {
		const rows = await this.#o.storage.listSweeps(workspace);
		const { sweeps, runs } = await this.#read(workspace);
		return rows.reverse().map((row) => view(sweeps.get(row.id) ?? fromRow(row), runs));
	}

	async get(workspace: WorkspaceId, id: string): Promise<SweepView> {
		const [row] = await this.#o.storage.listSweeps(workspace, id);
		if (!row) throw notFound(`No sweep with id "${id}" in this workspace.`);
		const { sweeps, runs } = await this.#read(workspace);
		return view(sweeps.get(id) ?? fromRow(row), runs);
	}

	/** Stops a sweep: its queued runs are withdrawn and its running ones stopped (SWEEP4). */
	async stop(workspace: WorkspaceId, id: string, actor: Actor, by: UserId): Promise<SweepView> {
		const { storage, relay, clock, runs } = this.#o;
		const [row] = await storage.listSweeps(workspace, id);
		if (!row) throw notFound(`No sweep with id "${id}" in this workspace.`);
		const now = clock.now();
		if (!(await storage.stopSweep(workspace, id, now))) {
			throw new TrainingError(409, 'conflict', 'This sweep was already stopped.');
		}
		await relay.write(liveKey(workspace), by, (doc) => {
			const map = doc.getMap<SweepRecord>(schema.live.sweeps);
			const sweep = map.get(id) ?? fromRow(row);
			map.set(id, { ...sweep, state: 'stopped', stopped_by: actor, ended_at: now });
		});
		const active = (await this.#read(workspace)).runs.filter(
			(r) => r.sweep === id && !isFinalStatus(r.status)
		);
		// Queued ones first, so that none starts while the running ones are stopped.
		active.sort((a, b) => Number(a.status === 'running') - Number(b.status === 'running'));
		for (const run of active) {
			try {
				await runs.stop(workspace, run.id as RunId, actor);
			} catch (err) {
				// It ended meanwhile: nothing to stop.
				if (!(err instanceof TrainingError && err.status === 409)) throw err;
			}
		}
		this.#o.logger.info({ workspace, sweep: id, stopped: active.length }, 'sweep stopped');
		return this.get(workspace, id);
	}

	#read(workspace: WorkspaceId): Promise<{ sweeps: Map<string, SweepRecord>; runs: RunRecord[] }> {
		return readDoc(this.#o.relay, liveKey(workspace), (doc) => ({
			sweeps: new Map(doc.getMap<SweepRecord>(schema.live.sweeps).entries()),
			runs: readRuns(doc)
		}));
	}
}

function view(sweep: SweepRecord, runs: readonly RunRecord[]): SweepView {
	return {
		sweep,
		progress: sweepProgress(sweep, runs),
		runs: runs.filter((r) => r.sweep === sweep.id).map((r) => r.id)
	};
}

/** A stored sweep whose `live` entry is missing (written before a crash): rebuilt from the row. */
function fromRow(row: SweepRow): SweepRecord {
	const created = JSON.parse(row.definition) as SweepRecord;
	return { ...created, state: row.state, ended_at: row.endedAt };
}
