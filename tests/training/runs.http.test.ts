import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../server/protocol/training.ts';
import type { ErrorReply } from '../helpers/http.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { connectPeer, docReaches, synced } from '../helpers/yjs.ts';
import {
	runOf,
	setWorkspace,
	statusReaches,
	watchLive,
	type StartBody,
	BUILTIN
} from './helpers.ts';

let server: TestServer;
let team: Team;

beforeEach(async () => {
	server = await startTestServer({ memory: true });
	team = await makeTeam(server);
});

afterEach(async () => {
	await server.close();
});

describe('built-in runs over HTTP and Yjs', () => {
	it('[TRAIN1][TRAIN2] an Iris run completes above chance and its metrics reach another client while it trains', async () => {
		const ws = team.workspace;
		await setWorkspace(server, team.owner, ws, { epochs: 150 }, { 'model.py': 'hidden = 16\n' });
		const live = await watchLive(server, team.owner, ws);
		const viewer = await team.add('Vera', 'viewer');
		const start = await team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`, BUILTIN);
		expect(start.status).toBe(201);
		expect(start.body.queued).toBe(false);
		const id = start.body.run.id;

		// A second person watches the run's own document with a stock provider.
		const watcher = await connectPeer(server, viewer.client, ws, `run/${id}`);
		const metrics = watcher.doc.getArray<MetricPoint>('metrics');
		const arrivals: Array<{ points: number; runStatus: string | undefined }> = [];
		metrics.observe(() => {
			arrivals.push({ points: metrics.length, runStatus: runOf(live.doc, id)?.status });
		});
		await synced(watcher);
		// 150 epochs at a quarter of a core: tens of seconds on a loaded 2-core machine.
		await statusReaches(live, id, 'completed', 80_000);
		await docReaches(
			watcher.doc,
			() => metrics.toArray().filter((p) => p.kind === 'epoch').length === 150,
			'all epoch points'
		);

		// Streamed in several updates, the first while the run was still running.
		expect(arrivals.length).toBeGreaterThanOrEqual(3);
		expect(arrivals[0]?.runStatus).toBe('running');
		const epochs = metrics.toArray().filter((p) => p.kind === 'epoch');
		const last = epochs[epochs.length - 1];
		expect(last?.values.val_accuracy).toBeGreaterThan(1 / 3 + 0.2);
		expect(last?.elapsed_ms).toBeGreaterThan(0);

		const detail = await team.owner.get<{ run: StartBody['run']; metrics: MetricPoint[] }>(
			`/api/workspaces/${ws}/runs/${id}`
		);
		expect(detail.status).toBe(200);
		expect(detail.body.run).toMatchObject({
			status: 'completed',
			source: 'builtin',
			started_by: { id: team.ownerId },
			dataset: { id: 'iris' },
			target: 'species'
		});
		expect(detail.body.run.params.epochs).toBe(150);
		expect(detail.body.run.code['model.py']).toBe('hidden = 16\n');
		expect(detail.body.run.code['train.py']).toBeTypeOf('string');
		expect(detail.body.metrics.length).toBe(metrics.length);
		expect(live.doc.getMap('training').get('status')).toBe('completed');
		const state = await team.owner.get<{ state: { training_status: string } }>(
			`/api/workspaces/${ws}/state`
		);
		expect(state.body.state.training_status).toBe('completed');
		watcher.destroy();
		live.destroy();
	}, 120_000);

	it('[TRAIN4][TRAIN5] a second start is queued; stop ends the running one and the queued one starts', async () => {
		const ws = team.workspace;
		await setWorkspace(server, team.owner, ws, { epochs: 5000 });
		const live = await watchLive(server, team.owner, ws);
		const first = await team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`, BUILTIN);
		const second = await team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`, BUILTIN);
		expect(first.status).toBe(201);
		expect(second.status).toBe(202);
		expect(second.body).toMatchObject({ queued: true, position: 1 });
		expect(second.body.message).toMatch(/queued/);
		await statusReaches(live, first.body.run.id, 'running');

		const stop = await team.owner.post<{ run: { status: string } }>(
			`/api/workspaces/${ws}/runs/${first.body.run.id}/stop`
		);
		expect(stop.status).toBe(200);
		expect(stop.body.run.status).toBe('stopped');
		await statusReaches(live, second.body.run.id, 'running');
		const again = await team.owner.post<ErrorReply>(
			`/api/workspaces/${ws}/runs/${first.body.run.id}/stop`
		);
		expect(again.status).toBe(409);
		expect(again.body.error.message).toMatch(/not running \(it is stopped\)/);
		await team.owner.post(`/api/workspaces/${ws}/runs/${second.body.run.id}/stop`);
		await statusReaches(live, second.body.run.id, 'stopped');
		live.destroy();
	});

	it('[TRAIN6] a viewer cannot start or stop a run; an editor can', async () => {
		const ws = team.workspace;
		await setWorkspace(server, team.owner, ws, { epochs: 5000 });
		const viewer = await team.add('Vic', 'viewer');
		const editor = await team.add('Eddie', 'editor');
		const refused = await viewer.client.post<ErrorReply>(`/api/workspaces/${ws}/runs`, BUILTIN);
		expect(refused.status).toBe(403);
		expect(refused.body.error.message).toMatch(/start_training/);
		const started = await editor.client.post<StartBody>(`/api/workspaces/${ws}/runs`, BUILTIN);
		expect(started.status).toBe(201);
		const stop = await viewer.client.post<ErrorReply>(
			`/api/workspaces/${ws}/runs/${started.body.run.id}/stop`
		);
		expect(stop.status).toBe(403);
		const list = await viewer.client.get<{ runs: Array<{ id: string }> }>(
			`/api/workspaces/${ws}/runs`
		);
		expect(list.body.runs.map((r) => r.id)).toEqual([started.body.run.id]);
		expect(
			(await editor.client.post(`/api/workspaces/${ws}/runs/${started.body.run.id}/stop`)).status
		).toBe(200);
	});

	it('[TRAIN10] bad hyperparameters and unknown runs get clear errors', async () => {
		const ws = team.workspace;
		await setWorkspace(server, team.owner, ws, { optimizer: 'lbfgs' });
		const bad = await team.owner.post<ErrorReply>(`/api/workspaces/${ws}/runs`, BUILTIN);
		expect(bad.status).toBe(400);
		expect(bad.body.error).toMatchObject({ code: 'invalid_hyperparameters' });
		expect(bad.body.error.message).toMatch(/optimizer must be one of/);
		const missing = await team.owner.get<ErrorReply>(`/api/workspaces/${ws}/runs/nope`);
		expect(missing.status).toBe(404);
	});

	it('[ANNOT1] any member annotates a point; the server stamps the author and everyone sees it', async () => {
		const ws = team.workspace;
		await setWorkspace(server, team.owner, ws, { epochs: 2 });
		const live = await watchLive(server, team.owner, ws);
		const { body } = await team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`, BUILTIN);
		const viewer = await team.add('Val', 'viewer');
		const reply = await viewer.client.post<{
			annotation: { author: { id: string; name: string } };
		}>(`/api/workspaces/${ws}/annotations`, {
			run: body.run.id,
			step: 1,
			metric: 'val_loss',
			text: 'spike here'
		});
		expect(reply.status).toBe(201);
		expect(reply.body.annotation.author).toEqual({ id: viewer.id, name: 'Val' });
		await docReaches(live.doc, (d) => d.getArray('annotations').length === 1, 'annotation');
		expect(live.doc.getArray('annotations').get(0)).toMatchObject({
			run: body.run.id,
			step: 1,
			metric: 'val_loss',
			text: 'spike here',
			author: { id: viewer.id }
		});
		const unknown = await viewer.client.post(`/api/workspaces/${ws}/annotations`, {
			run: 'nope',
			step: 1,
			metric: 'loss',
			text: 'x'
		});
		expect(unknown.status).toBe(404);
		live.destroy();
	});
});
