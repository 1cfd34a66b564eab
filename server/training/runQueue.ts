// The run queue of every workspace, stored (storage `active_runs`) so it survives
// restarts and is shared by every process on one PostgreSQL. This process claims
// runs for the executors it has (one run at a time per workspace, at most
// `maxConcurrent` at once), heartbeats them, and notices runs whose executor went
// silent (an agent, a script or another process): they end `lost`, and are queued
// again when the person asked for it. Status goes into `live`, as before.

import { hostname } from 'node:os';
import { newId, type RunId, type UserId, type WorkspaceId } from '../protocol/ids.ts';
import {
	isFinalStatus,
	type RunRecord,
	type RunStatus,
	type RunSummary,
	type TrainingState
} from '../protocol/training.ts';
import type { RelayApi } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { ActiveRun, RunnerKind, Storage } from '../storage/types.ts';
import { TrainingError } from './errors.ts';
import type { ExecHandle, ExecOutcome, Executor, LocalRunner } from './executor.ts';
import { RunWriter } from './runWriter.ts';
import { liveKey, liveWriter, readDoc, readRun } from './workspaceDocs.ts';

export interface RunQueueOptions {
	readonly relay: RelayApi;
	readonly storage: Storage;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly executors: readonly Executor[];
	/** This process's name (RunStore owner); '' for a lone process. */
	readonly instance: string;
	readonly maxConcurrent: number;
	readonly maxQueued: number;
	readonly metricsIntervalMs: number;
	/** How often a claimant says it is alive (default 5 s). */
	readonly heartbeatMs?: number;
	/** Silent this long, a running run is lost (default 25 s; checked every heartbeat/2). */
	readonly lostAfterMs?: number;
	/** How often this process looks for runs queued by other processes (default 1 s). */
	readonly pollMs?: number;
	/** The data set a run trains on, as stored. */
	readonly dataset: (
		workspace: WorkspaceId,
		run: RunRecord
	) => Promise<{ name: string; csv: Uint8Array } | null>;
}

interface Local {
	readonly workspace: WorkspaceId;
	readonly id: RunId;
	handle: ExecHandle | null;
	/** Set by stop() or close(): how the run ends if it has not finished by itself. */
	ending: 'stopped' | 'interrupted' | null;
	finished: Promise<void>;
}

export interface EnqueueOptions {
	readonly runner: RunnerKind;
	readonly agent: string | null;
	readonly requeue: boolean;
	/** The sweep it belongs to: sweeps queue many runs at once, past `maxQueued`. */
	readonly sweep?: string;
}

const LOCAL: readonly LocalRunner[] = ['builtin', 'server'];

export class RunQueue {
	readonly #o: RunQueueOptions;
	readonly #local = new Map<string, Local>();
	readonly #lastStatus = new Map<WorkspaceId, RunStatus>();
	readonly #publishing = new Map<WorkspaceId, Promise<void>>();
	readonly #waiters = new Set<() => void>();
	readonly #heartbeatMs: number;
	readonly #lostAfterMs: number;
	#pumping: Promise<void> | null = null;
	#again = false;
	#closed = false;
	#timers: Array<ReturnType<typeof setInterval>> = [];

	constructor(options: RunQueueOptions) {
		this.#o = options;
		this.#heartbeatMs = options.heartbeatMs ?? 5000;
		this.#lostAfterMs = options.lostAfterMs ?? 25_000;
	}

	/** How this process names itself in `where`. */
	get serverName(): string {
		return `server ${this.#o.instance || hostname()}`;
	}

	/** Starts the timers: polling for other processes' runs, heartbeats, lost runs. */
	startTimers(): void {
		const every = (ms: number, fn: () => Promise<unknown>) => {
			const timer = setInterval(() => {
				fn().catch((err: unknown) => this.#o.logger.error({ err }, 'run queue timer failed'));
			}, ms);
			timer.unref();
			this.#timers.push(timer);
		};
		every(this.#o.pollMs ?? 1000, () => this.pump());
		every(this.#heartbeatMs, () => this.#heartbeat());
		every(Math.max(200, Math.min(this.#heartbeatMs, this.#lostAfterMs) / 2), () =>
			this.sweepLost()
		);
	}

	/** Records the run in `live` (queued) and in the queue; a local executor may take it at once. */
	async enqueue(
		record: RunRecord,
		workspace: WorkspaceId,
		author: UserId,
		options: EnqueueOptions
	): Promise<{ queued: boolean; position: number }> {
		const { storage, clock } = this.#o;
		const waiting = (await storage.listQueue(workspace)).filter(
			(r) => r.state === 'queued' && !r.sweep
		);
		if (!options.sweep && waiting.length >= this.#o.maxQueued) {
			throw new TrainingError(
				409,
				'queue_full',
				`${waiting.length} runs are already waiting in this workspace; stop one or wait for them to finish.`
			);
		}
		const id = record.id as RunId;
		await liveWriter(this.#o.relay, workspace).createRun(record, author);
		try {
			await storage.addActiveRun({
				workspace,
				run: id,
				runner: options.runner,
				agent: options.agent ?? '',
				state: 'queued',
				owner: '',
				claimedBy: '',
				queuedAt: clock.now(),
				heartbeatAt: 0,
				stopRequested: false,
				requeue: options.requeue,
				sweep: options.sweep ?? ''
			});
		} catch (err) {
			await this.#writeEnd(
				workspace,
				id,
				'failed',
				'The run could not be queued; the error was logged.',
				null,
				[]
			);
			throw err;
		}
		for (const wake of this.#waiters) wake();
		await this.pump();
		await this.publish(workspace);
		const started = this.#local.has(key(workspace, id));
		const after = (await storage.listQueue(workspace)).filter((r) => r.state === 'queued');
		const position = after.findIndex((r) => r.run === id) + 1;
		return { queued: !started, position: started ? 0 : Math.max(1, position) };
	}

	isLocal(workspace: WorkspaceId, id: string): boolean {
		return this.#local.has(key(workspace, id));
	}

	/**
	 * Stops a run: a queued one ends at once; one running here is ended and awaited;
	 * one running elsewhere (another process, an agent) is asked to stop and ends on
	 * its next heartbeat. Returns null when the run is not active.
	 */
	async stop(
		workspace: WorkspaceId,
		id: RunId
	): Promise<{ ended: boolean; row: ActiveRun } | null> {
		const local = this.#local.get(key(workspace, id));
		if (local) {
			local.ending ??= 'stopped';
			await local.handle?.stop();
			await local.finished;
			return { ended: true, row: await this.#rowOrEnded(workspace, id) };
		}
		const row = await this.#o.storage.requestStop(workspace, id);
		if (!row) return null;
		if (row.state === 'queued') {
			await this.#writeEnd(workspace, id, 'stopped', 'Stopped before it started.', null, []);
			await this.publish(workspace);
			return { ended: true, row };
		}
		return { ended: false, row };
	}

	async #rowOrEnded(workspace: WorkspaceId, id: RunId): Promise<ActiveRun> {
		return (
			(await this.#o.storage.listQueue(workspace)).find((r) => r.run === id) ?? {
				workspace,
				run: id,
				runner: 'builtin',
				agent: '',
				state: 'running',
				owner: this.#o.instance,
				claimedBy: '',
				queuedAt: 0,
				heartbeatAt: 0,
				stopRequested: true,
				requeue: false
			}
		);
	}

	/** Hands the oldest queued agent run of the workspace to this agent, or null. */
	async claimForAgent(workspace: WorkspaceId, agent: string): Promise<RunRecord | null> {
		const now = this.#o.clock.now();
		const row = await this.#o.storage.claimRun({
			runners: ['agent', 'any'],
			workspace,
			agent,
			onePerWorkspace: false,
			claimedBy: agentClaim(agent),
			owner: '',
			now
		});
		if (!row) return null;
		const record = await readDoc(this.#o.relay, liveKey(workspace), (doc) => readRun(doc, row.run));
		if (!record || isFinalStatus(record.status)) {
			await this.#o.storage.markRunEnded(workspace, row.run);
			return null;
		}
		const fields = { status: 'running' as const, started_at: now, where: `agent ${agent}` };
		await liveWriter(this.#o.relay, workspace).updateRun(row.run, fields);
		await this.publish(workspace);
		return { ...record, ...fields };
	}

	/** Waits until a run is queued anywhere in this process, or `ms` pass. */
	waitForWork(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const done = (): void => {
				clearTimeout(timer);
				this.#waiters.delete(done);
				resolve();
			};
			const timer = setTimeout(done, ms);
			this.#waiters.add(done);
		});
	}

	/** Takes queued runs for this process's executors while it has room. */
	pump(): Promise<void> {
		if (this.#pumping) {
			this.#again = true;
			return this.#pumping;
		}
		this.#pumping = (async () => {
			do {
				this.#again = false;
				await this.#claimLocal();
			} while (this.#again);
		})().finally(() => {
			this.#pumping = null;
		});
		return this.#pumping;
	}

	async #claimLocal(): Promise<void> {
		const runners: RunnerKind[] = LOCAL.filter((kind) =>
			this.#o.executors.some((e) => e.kind === kind && e.availability().available)
		);
		// Runs for "any" runner go to the sandbox here, or to an agent.
		if (runners.includes('server')) runners.push('any');
		while (!this.#closed && runners.length > 0 && this.#local.size < this.#o.maxConcurrent) {
			const row = await this.#o.storage.claimRun({
				runners,
				onePerWorkspace: true,
				claimedBy: this.#claimant,
				owner: this.#o.instance,
				now: this.#o.clock.now()
			});
			if (!row) return;
			const local: Local = {
				workspace: row.workspace,
				id: row.run,
				handle: null,
				ending: null,
				finished: Promise.resolve()
			};
			this.#local.set(key(row.workspace, row.run), local);
			const runner: LocalRunner = row.runner === 'builtin' ? 'builtin' : 'server';
			local.finished = this.#run(local, runner).catch((err: unknown) => {
				this.#o.logger.error(
					{ err, workspace: row.workspace, run: row.run },
					'run bookkeeping failed'
				);
			});
		}
	}

	get #claimant(): string {
		return `server:${this.#o.instance}`;
	}

	async #run(local: Local, runner: LocalRunner): Promise<void> {
		const { relay, logger, clock } = this.#o;
		const { workspace, id } = local;
		const log = logger.child({ workspace, run: id, runner });
		const record = await readDoc(relay, liveKey(workspace), (doc) => readRun(doc, id));
		if (!record || isFinalStatus(record.status)) {
			this.#local.delete(key(workspace, id));
			await this.#o.storage.markRunEnded(workspace, id);
			return;
		}
		const writer = new RunWriter(relay, workspace, id, this.#o.metricsIntervalMs, log);
		let outcome: ExecOutcome = { status: 'stopped' };
		try {
			await liveWriter(relay, workspace).updateRun(
				id,
				{ status: 'running', started_at: clock.now(), where: this.serverName },
				{ state: await this.#state(workspace), at: clock.now() }
			);
			const executor = this.#o.executors.find((e) => e.kind === runner);
			if (!executor) throw new Error(`no ${runner} executor`);
			if (local.ending === null) {
				log.info({}, 'run started');
				local.handle = await executor.start(
					{ workspace, run: record, dataset: () => this.#o.dataset(workspace, record) },
					{
						points: (points, summary) => writer.points(points, summary),
						log: (lines) => writer.log(lines)
					}
				);
				// A stop that came while it was starting.
				if (local.ending !== null) await local.handle.stop();
				outcome = await local.handle.done;
			}
		} catch (err) {
			if (err instanceof TrainingError) outcome = { status: 'failed', message: err.message };
			else {
				log.error({ err }, 'run failed to start');
				outcome = {
					status: 'failed',
					message: 'The server could not start this run; the error was logged.'
				};
			}
		}
		await writer.flush();
		const status: RunStatus =
			outcome.status === 'stopped' ? (local.ending ?? 'stopped') : outcome.status;
		const message =
			outcome.status === 'failed'
				? outcome.message
				: status === 'interrupted'
					? 'The server shut down while this run was training.'
					: outcome.status === 'stopped'
						? (outcome.message ?? null)
						: null;
		const summary =
			outcome.status === 'completed' && outcome.summary ? writer.withBest(outcome.summary) : null;
		log.info({ status, summary, writeFailures: writer.failures }, 'run ended');
		this.#local.delete(key(workspace, id));
		await this.#writeEnd(
			workspace,
			id,
			status,
			message,
			summary,
			status === 'failed' ? writer.tail(50) : [],
			writer.logSize
		);
		if (!this.#closed) void this.pump();
	}

	/** Writes a run's final status with the training state, then removes it from the queue. */
	async #writeEnd(
		workspace: WorkspaceId,
		id: RunId,
		status: RunStatus,
		message: string | null,
		summary: RunSummary | null,
		output: string[],
		log?: RunRecord['log']
	): Promise<void> {
		const fields: Partial<RunRecord> = { status, ended_at: this.#o.clock.now(), message };
		if (summary) fields.summary = summary;
		if (output.length > 0) fields.output = output;
		if (log) fields.log = log;
		this.#lastStatus.set(workspace, status);
		try {
			await this.#o.storage.markRunEnded(workspace, id);
			await liveWriter(this.#o.relay, workspace).updateRun(id, fields, {
				state: await this.#state(workspace),
				at: this.#o.clock.now()
			});
		} catch (err) {
			this.#o.logger.error(
				{ err, workspace, run: id, status },
				'could not record the end of a run'
			);
		}
	}

	/** Ends a run that an agent or a script reported ended (or that was found lost). */
	async ended(workspace: WorkspaceId, id: RunId, status: RunStatus): Promise<void> {
		this.#lastStatus.set(workspace, status);
		await this.#o.storage.markRunEnded(workspace, id);
		await this.publish(workspace);
	}

	async #heartbeat(): Promise<void> {
		for (const local of this.#local.values()) {
			const row = await this.#o.storage.heartbeatRun(
				local.workspace,
				local.id,
				this.#claimant,
				this.#o.clock.now()
			);
			if (row?.stopRequested && local.ending === null) {
				local.ending = 'stopped';
				void local.handle?.stop();
			}
		}
	}

	/** Runs silent for longer than `lostAfterMs` end `lost` (and are queued again if asked). */
	async sweepLost(): Promise<number> {
		const now = this.#o.clock.now();
		const stale = await this.#o.storage.takeStaleRuns(now - this.#lostAfterMs);
		for (const row of stale) {
			if (this.#local.has(key(row.workspace, row.run))) {
				// Ours and alive (a heartbeat was late): keep it listed.
				await this.#o.storage.addActiveRun({ ...row, heartbeatAt: now });
				continue;
			}
			const record = await readDoc(this.#o.relay, liveKey(row.workspace), (doc) =>
				readRun(doc, row.run)
			);
			if (!record || isFinalStatus(record.status)) continue;
			const who = record.where ?? (row.claimedBy || 'its executor');
			let message = `${who} stopped answering (no heartbeat for ${Math.round(this.#lostAfterMs / 1000)} s).`;
			let again: RunRecord | null = null;
			if (row.stopRequested === false && (row.requeue || (await this.#sweepGoesOn(row)))) {
				// A sweep's configuration goes back into its sweep: a new run of the same configuration.
				again = await this.requeue(row.workspace, record, null, { requeue: row.requeue });
				message += ` Queued again as "${again.name}".`;
			}
			this.#o.logger.warn({ workspace: row.workspace, run: row.run, who }, 'run lost');
			await this.#writeEnd(row.workspace, row.run, 'lost', message, null, []);
		}
		return stale.length;
	}

	async #sweepGoesOn(row: ActiveRun): Promise<boolean> {
		if (!row.sweep) return false;
		const [sweep] = await this.#o.storage.listSweeps(row.workspace, row.sweep);
		return sweep?.state === 'running';
	}

	/** A new run with the same code, parameters, data and runner as `from`, queued. */
	async requeue(
		workspace: WorkspaceId,
		from: RunRecord,
		author: UserId | null,
		options: { requeue?: boolean; actor?: RunRecord['started_by'] } = {}
	): Promise<RunRecord> {
		const runner: RunnerKind = from.runner ?? from.source;
		if (runner === 'external') {
			throw new TrainingError(
				409,
				'conflict',
				'A run reported by a script is re-run by its script.'
			);
		}
		const record: RunRecord = {
			...from,
			id: newId<RunId>(),
			name: from.name.replace(/ \(again( \d+)?\)$/, '') + ' (again)',
			status: 'queued',
			started_by: options.actor ?? from.started_by,
			created_at: this.#o.clock.now(),
			started_at: null,
			ended_at: null,
			summary: {
				...from.summary,
				epoch: 0,
				loss: null,
				accuracy: null,
				val_loss: null,
				val_accuracy: null,
				elapsed_ms: 0
			},
			message: null,
			output: [],
			where: null,
			log: null,
			requeue: options.requeue ?? from.requeue ?? false,
			requeue_of: from.id,
			stopped_by: null
		};
		await this.enqueue(record, workspace, author ?? (from.started_by.id as UserId), {
			runner,
			agent: from.agent ?? null,
			requeue: record.requeue ?? false,
			...(from.sweep ? { sweep: from.sweep } : {})
		});
		return record;
	}

	/**
	 * At start: runs this process was running when it stopped end `interrupted`.
	 * Queued runs stay queued (they survive restarts); agents' runs are judged by
	 * their heartbeats. Returns how many ended.
	 */
	async recover(): Promise<number> {
		const rows = await this.#o.storage.listQueue();
		const mine = rows.filter(
			(r) =>
				r.state === 'running' &&
				r.owner === this.#o.instance &&
				(r.runner === 'builtin' || r.runner === 'server') &&
				!this.#local.has(key(r.workspace, r.run))
		);
		for (const { workspace, run } of mine) {
			const record = await readDoc(this.#o.relay, liveKey(workspace), (doc) => readRun(doc, run));
			if (record && isFinalStatus(record.status)) {
				// Its end was written but not the bookkeeping: nothing to change in `live`.
				await this.#o.storage.markRunEnded(workspace, run);
				continue;
			}
			await this.#writeEnd(
				workspace,
				run,
				'interrupted',
				'The server stopped while this run was training.',
				null,
				[]
			);
		}
		if (mine.length > 0)
			this.#o.logger.warn({ runs: mine.length }, 'marked runs interrupted after a restart');
		return mine.length;
	}

	/** Ends this process's running runs as interrupted (shutdown); queued runs stay queued. */
	async close(): Promise<void> {
		this.#closed = true;
		for (const timer of this.#timers) clearInterval(timer);
		for (const wake of this.#waiters) wake();
		await this.#pumping;
		const ending: Array<Promise<unknown>> = [];
		for (const local of this.#local.values()) {
			local.ending = 'interrupted';
			ending.push(local.handle?.stop() ?? Promise.resolve(), local.finished);
		}
		await Promise.all(ending);
	}

	/** `live.training`: the seed's `training_status`, the queue and the current run. */
	async #state(workspace: WorkspaceId): Promise<() => Omit<TrainingState, 'updated_at'>> {
		const rows = await this.#o.storage.listQueue(workspace);
		const queued = rows.filter((r) => r.state === 'queued').map((r) => r.run as string);
		const running = rows.filter((r) => r.state === 'running').map((r) => r.run as string);
		const last = this.#lastStatus.get(workspace) ?? 'idle';
		return () => ({
			status: running.length > 0 ? 'running' : queued.length > 0 ? 'queued' : last,
			current_run: running[0] ?? null,
			queued
		});
	}

	/** Writes `live.training` (one publish at a time per workspace, so the last one wins). */
	publish(workspace: WorkspaceId): Promise<void> {
		const previous = this.#publishing.get(workspace) ?? Promise.resolve();
		const next = previous.then(async () => {
			try {
				await liveWriter(this.#o.relay, workspace).setTraining(
					await this.#state(workspace),
					this.#o.clock.now()
				);
			} catch (err) {
				this.#o.logger.error({ err, workspace }, 'could not publish the training status');
			}
		});
		this.#publishing.set(workspace, next);
		return next;
	}
}

export function agentClaim(agent: string): string {
	return `agent:${agent}`;
}

function key(workspace: WorkspaceId, id: string): string {
	return `${workspace}/${id}`;
}
