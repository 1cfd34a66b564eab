import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DEFAULT_HYPERPARAMETERS } from '../../server/protocol/docs.ts';
import type { RunId, UserId, WorkspaceId } from '../../server/protocol/ids.ts';
import type { MetricPoint, RunRecord, TrainingState } from '../../server/protocol/training.ts';
import { silentLogger, systemClock } from '../../server/runtime.ts';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { TrainingService } from '../../server/training/service.ts';
import { FakeRelay } from './fakeRelay.ts';

const ws = 'ws1' as WorkspaceId;
const alice = { id: 'alice', name: 'Alice' };
const aliceId = 'alice' as UserId;

interface Setup {
	relay: FakeRelay;
	storage: MemoryStorage;
	service: TrainingService;
}

const open: Setup[] = [];

async function setup(hp: Record<string, unknown> = {}, code = 'print("hi")\n'): Promise<Setup> {
	const relay = new FakeRelay();
	const storage = new MemoryStorage();
	await relay.write({ workspace: ws, doc: 'params' }, null, (doc) => {
		const map = doc.getMap('hyperparameters');
		for (const [k, v] of Object.entries({ ...DEFAULT_HYPERPARAMETERS, ...hp })) map.set(k, v);
	});
	await relay.write({ workspace: ws, doc: 'code' }, null, (doc) => {
		doc.getMap('files').set('train.py', new Y.Text(code));
	});
	const service = new TrainingService({
		relay,
		storage,
		clock: systemClock,
		logger: silentLogger,
		maxConcurrent: 1
	});
	const s = { relay, storage, service };
	open.push(s);
	return s;
}

afterEach(async () => {
	for (const s of open.splice(0)) {
		await s.service.close();
		await s.relay.close();
		await s.storage.close();
	}
});

const live = (relay: FakeRelay) => relay.doc({ workspace: ws, doc: 'live' });

function run(relay: FakeRelay, id: string): RunRecord | undefined {
	const entry = live(relay).getMap<Y.Map<unknown>>('runs').get(id);
	return entry?.toJSON() as RunRecord | undefined;
}

/** Resolves when the run's status in `live` satisfies `done` (observing the document, no polling). */
function waitForStatus(
	relay: FakeRelay,
	id: string,
	done: (s: string) => boolean
): Promise<RunRecord> {
	const runs = live(relay).getMap('runs');
	return new Promise((resolve) => {
		const check = () => {
			const r = run(relay, id);
			if (r && done(r.status)) {
				runs.unobserveDeep(check);
				resolve(r);
			}
		};
		runs.observeDeep(check);
		check();
	});
}

describe('TrainingService with an in-memory relay', () => {
	it('[TRAIN3][TRAIN7] a run records params, code, who and when, and goes queued → running → completed', async () => {
		const { relay, service } = await setup({ epochs: 20, learning_rate: 0.05 }, 'x = 1\n');
		const seen: string[] = [];
		live(relay)
			.getMap('runs')
			.observeDeep(() => {
				const status = [...live(relay).getMap<Y.Map<unknown>>('runs').values()][0]?.get('status');
				if (typeof status === 'string' && seen[seen.length - 1] !== status) seen.push(status);
			});
		const started = await service.start(ws, alice, aliceId, {});
		expect(started.queued).toBe(false);
		const done = await waitForStatus(relay, started.run.id, (s) => s === 'completed');
		expect(seen).toEqual(['queued', 'running', 'completed']);
		expect(done.params).toMatchObject({ epochs: 20, learning_rate: 0.05, optimizer: 'adam' });
		expect(done.code).toEqual({ 'train.py': 'x = 1\n' });
		expect(done.started_by).toEqual(alice);
		expect(done.dataset).toEqual({ id: 'iris', name: 'Iris (bundled)' });
		expect(done.target).toBe('species');
		expect(done.summary.epoch).toBe(20);
		expect(done.summary.val_accuracy).toBeGreaterThan(1 / 3);
		const metrics = relay
			.doc({ workspace: ws, doc: `run/${started.run.id as RunId}` })
			.getArray<MetricPoint>('metrics');
		expect(metrics.toArray().filter((p) => p.kind === 'epoch')).toHaveLength(20);
		const training = live(relay).getMap('training').toJSON() as TrainingState;
		expect(training).toMatchObject({ status: 'completed', current_run: null, queued: [] });
	});

	it('[TRAIN4] a second start while one trains is queued and runs after it', async () => {
		const { relay, service } = await setup({ epochs: 300 });
		const first = await service.start(ws, alice, aliceId, {});
		const second = await service.start(ws, alice, aliceId, {});
		expect(second.queued).toBe(true);
		expect(second.position).toBe(1);
		expect(second.message).toMatch(/queued/);
		expect(live(relay).getMap('training').get('queued')).toEqual([second.run.id]);
		await service.stop(ws, first.run.id as RunId);
		await waitForStatus(relay, second.run.id, (s) => s === 'running');
		expect(run(relay, first.run.id)?.status).toBe('stopped');
		await service.stop(ws, second.run.id as RunId);
		expect(run(relay, second.run.id)?.status).toBe('stopped');
	});

	it('[TRAIN5] stop ends a running run as stopped, and a stopped run cannot be stopped again', async () => {
		const { relay, service } = await setup({ epochs: 5000 });
		const { run: r } = await service.start(ws, alice, aliceId, {});
		await waitForStatus(relay, r.id, (s) => s === 'running');
		const stopped = await service.stop(ws, r.id as RunId);
		expect(stopped.status).toBe('stopped');
		expect(stopped.ended_at).not.toBeNull();
		await expect(service.stop(ws, r.id as RunId)).rejects.toMatchObject({ status: 409 });
	});

	it('[TRAIN8] runs left active by a previous process are marked interrupted at start', async () => {
		const { relay, storage, service } = await setup({ epochs: 5000 });
		const { run: r } = await service.start(ws, alice, aliceId, {});
		await waitForStatus(relay, r.id, (s) => s === 'running');
		// A second service on the same storage and documents, as after a crash.
		const after = new TrainingService({ relay, storage, clock: systemClock, logger: silentLogger });
		// The first one is still "running" in this process, so stop it the hard way first.
		await service.close();
		await storage.markRunActive(ws, r.id as RunId);
		await relay.write({ workspace: ws, doc: 'live' }, null, (doc) => {
			doc.getMap<Y.Map<unknown>>('runs').get(r.id)?.set('status', 'running');
		});
		expect(await after.recoverInterrupted()).toBe(1);
		expect(run(relay, r.id)?.status).toBe('interrupted');
		expect(await storage.listActiveRuns()).toEqual([]);
		expect(live(relay).getMap('training').get('status')).toBe('interrupted');
	});

	it('[TRAIN11] a process restarting on a shared database ends only its own runs', async () => {
		const { relay, storage } = await setup();
		const mine = 'host-a:8001';
		// host-b is alive and training run-b; host-a died while running run-a.
		await storage.markRunActive(ws, 'run-a' as RunId, mine);
		await storage.markRunActive(ws, 'run-b' as RunId, 'host-b:8002');
		const restarted = new TrainingService({
			relay,
			storage,
			clock: systemClock,
			logger: silentLogger,
			instance: mine
		});
		try {
			expect(await restarted.recoverInterrupted()).toBe(1);
			expect(await storage.listActiveRuns()).toEqual([
				{ workspace: ws, run: 'run-b', owner: 'host-b:8002' }
			]);
		} finally {
			await restarted.close();
		}
	});

	it('[TRAIN10] bad hyperparameters refuse the start with a 400', async () => {
		const { service } = await setup({ batch_size: 0 });
		await expect(service.start(ws, alice, aliceId, {})).rejects.toMatchObject({
			status: 400,
			message: expect.stringMatching(/batch_size must be a whole number at least 1/) as unknown
		});
	});
});
