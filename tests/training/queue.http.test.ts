// The run queue over HTTP: the runner choice, the queue everyone sees, stop and
// re-queue, and who may do what. Real server, real sandbox (bubblewrap).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../server/protocol/training.ts';
import type { ErrorReply } from '../helpers/http.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { runOf, setWorkspace, statusReaches, watchLive, type StartBody } from './helpers.ts';

let server: TestServer;
let team: Team;

beforeEach(async () => {
	server = await startTestServer({ memory: true });
	team = await makeTeam(server);
});

afterEach(async () => {
	await server.close();
});

interface Runners {
	default: string;
	server: { available: boolean; reason: string | null };
	builtin: { available: boolean };
	queue: Array<{ run: string; runner: string; agent: string | null; state: string }>;
}

describe('the run queue', () => {
	it('[RUNQ3] without a runner a run goes to the server sandbox; agent runs wait in a queue everyone sees', async () => {
		const ws = team.workspace;
		await setWorkspace(
			server,
			team.owner,
			ws,
			{},
			{ 'train.py': 'print({"epoch": 1, "f1": 0.5})' }
		);
		const viewer = await team.add('Vera', 'viewer');
		const runners = await viewer.client.get<Runners>(`/api/workspaces/${ws}/runners`);
		expect(runners.body).toMatchObject({ default: 'server', server: { available: true } });

		const live = await watchLive(server, team.owner, ws);
		const plain = await team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`);
		expect(plain.body.run.runner).toBe('server');
		expect(plain.body.run.entry).toBe('train.py');
		await statusReaches(live, plain.body.run.id, 'completed');

		const forGpu = await team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`, {
			runner: 'agent',
			agent: 'gpu-1'
		});
		const forAny = await team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`, {
			runner: 'agent'
		});
		expect(forGpu.status).toBe(202);
		expect(forGpu.body.message).toMatch(/agent gpu-1/);
		const queue = await viewer.client.get<Runners>(`/api/workspaces/${ws}/runners`);
		expect(queue.body.queue).toMatchObject([
			{ run: forGpu.body.run.id, runner: 'agent', agent: 'gpu-1', state: 'queued' },
			{ run: forAny.body.run.id, runner: 'agent', agent: null, state: 'queued' }
		]);
		expect(live.doc.getMap('training').get('queued')).toEqual([
			forGpu.body.run.id,
			forAny.body.run.id
		]);
		expect(runOf(live.doc, forAny.body.run.id)?.started_by.id).toBe(team.ownerId);

		// Viewers watch; they cannot stop or re-queue, and are told why.
		const refused = await viewer.client.post<ErrorReply>(
			`/api/workspaces/${ws}/runs/${forGpu.body.run.id}/stop`
		);
		expect(refused.status).toBe(403);
		expect(refused.body.error.message).toMatch(/start_training/);
		const stopped = await team.owner.post<{ run: RunRecord }>(
			`/api/workspaces/${ws}/runs/${forGpu.body.run.id}/stop`
		);
		expect(stopped.body.run).toMatchObject({
			status: 'stopped',
			message: 'Stopped before it started.'
		});

		const noRequeue = await viewer.client.post<ErrorReply>(
			`/api/workspaces/${ws}/runs/${forGpu.body.run.id}/requeue`
		);
		expect(noRequeue.status).toBe(403);
		const again = await team.owner.post<StartBody>(
			`/api/workspaces/${ws}/runs/${forGpu.body.run.id}/requeue`
		);
		expect(again.status).toBe(202);
		expect(again.body.run).toMatchObject({
			status: 'queued',
			runner: 'agent',
			agent: 'gpu-1',
			requeue_of: forGpu.body.run.id,
			code: forGpu.body.run.code
		});
		const running = await team.owner.post<ErrorReply>(
			`/api/workspaces/${ws}/runs/${again.body.run.id}/requeue`
		);
		expect(running.status).toBe(409);
		live.destroy();
	});

	it('[RUNQ4] bad runner requests get clear errors', async () => {
		const ws = team.workspace;
		await setWorkspace(server, team.owner, ws, {}, { 'train.py': 'print(1)' });
		const wrong = await team.owner.post<ErrorReply>(`/api/workspaces/${ws}/runs`, {
			runner: 'gpu'
		});
		expect(wrong.status).toBe(400);
		const agentless = await team.owner.post<ErrorReply>(`/api/workspaces/${ws}/runs`, {
			runner: 'server',
			agent: 'gpu-1'
		});
		expect(agentless.status).toBe(400);
		expect(agentless.body.error.message).toMatch(/"agent" names an agent/);
	});
});

describe('runs on the server where the sandbox is off', () => {
	it('[RUNQ5] the default is the built-in model, and asking for the server says why not', async () => {
		await server.close();
		server = await startTestServer({ memory: true, runnerSandbox: 'off' });
		team = await makeTeam(server);
		const ws = team.workspace;
		const runners = await team.owner.get<Runners>(`/api/workspaces/${ws}/runners`);
		expect(runners.body.default).toBe('builtin');
		expect(runners.body.server).toMatchObject({ available: false });
		expect(runners.body.server.reason).toMatch(/RUNNER_SANDBOX=off/);
		const refused = await team.owner.post<ErrorReply>(`/api/workspaces/${ws}/runs`, {
			runner: 'server'
		});
		expect(refused.status).toBe(409);
		expect(refused.body.error).toMatchObject({ code: 'runner_unavailable' });
		const plain = await team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`);
		expect(plain.body.run.runner).toBe('builtin');
	});
});
