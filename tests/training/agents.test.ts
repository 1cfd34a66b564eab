// Agents against the real server: real `python3 ensemble_client.py agent`
// processes take queued runs, run them here and stream them back (AGENT1-6).

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../server/protocol/training.ts';
import type { ErrorReply } from '../helpers/http.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { waitUntil, withDeadline } from '../helpers/wait.ts';
import { connectPeer, docReaches, synced, type Peer } from '../helpers/yjs.ts';
import {
	apiKey,
	runOf,
	setWorkspace,
	statusReaches,
	watchLive,
	type StartBody
} from './helpers.ts';

const CLIENT = fileURLToPath(new URL('../../clients/python/ensemble_client.py', import.meta.url));

/** Reports what an agent gave it: its hyperparameters, data set and target, and three epochs. */
const TRAIN_PY = `import json, os, time
from helper import scale

hp = json.loads(os.environ["ENSEMBLE_HYPERPARAMETERS"])
with open(os.environ["ENSEMBLE_HYPERPARAMETERS_FILE"]) as f:
    assert json.load(f) == hp
with open(os.environ["ENSEMBLE_DATASET"]) as f:
    rows = len(f.read().strip().splitlines()) - 1
print("hello from", os.environ["ENSEMBLE_RUN_ID"], "target", os.environ.get("ENSEMBLE_TARGET"))
for epoch in range(1, hp["epochs"] + 1):
    time.sleep(0.2)
    print(json.dumps({"epoch": epoch, "loss": scale(hp["learning_rate"]) / epoch, "rows": rows}))
`;
const HELPER_PY = 'def scale(x):\n    return x * 10\n';

/** Runs until stopped, one point per 0.2 s, so a test can act on a run that is mid-way. */
const LONG_PY = `import json, time
for step in range(1, 100000):
    print(json.dumps({"step": step, "loss": 1 / step}), flush=True)
    time.sleep(0.2)
`;

interface Agent {
	readonly child: ChildProcess;
	readonly name: string;
	stderr: string;
	stdout: string;
	readonly exited: Promise<number | null>;
}

let server: TestServer;
let team: Team;
let agents: Agent[] = [];

beforeEach(async () => {
	// Lost after 3 s here; the production default (25 s) is within the promised 30 s.
	server = await startTestServer({ memory: true, runnerLostAfterS: 3 });
	team = await makeTeam(server);
});

afterEach(async () => {
	for (const agent of agents) if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
	await Promise.all(agents.map((a) => a.exited));
	agents = [];
	await server.close();
});

function startAgent(key: string, name: string, ...args: string[]): Agent {
	const child = spawn(
		'python3',
		[CLIENT, '--url', server.url, '--workspace', team.workspace, '--key', key, 'agent'].concat(
			['--name', name],
			args
		),
		{ stdio: ['ignore', 'pipe', 'pipe'] }
	);
	const agent: Agent = {
		child,
		name,
		stderr: '',
		stdout: '',
		exited: new Promise((resolve) => child.on('close', (code) => resolve(code)))
	};
	child.stdout?.on('data', (chunk: Buffer) => (agent.stdout += chunk.toString()));
	child.stderr?.on('data', (chunk: Buffer) => (agent.stderr += chunk.toString()));
	agents.push(agent);
	return agent;
}

async function queueRun(body: Record<string, unknown>): Promise<StartBody> {
	const reply = await team.owner.post<StartBody>(`/api/workspaces/${team.workspace}/runs`, body);
	expect(reply.status).toBe(202);
	return reply.body;
}

async function runDoc(id: string): Promise<Peer> {
	const peer = await connectPeer(server, team.owner, team.workspace, `run/${id}`);
	await synced(peer);
	return peer;
}

/** The workspace's hyperparameters and code set, a key, and `live` watched. */
async function prepare(
	hp: Record<string, unknown>,
	files: Record<string, string>
): Promise<{ key: string; live: Peer }> {
	await setWorkspace(server, team.owner, team.workspace, hp, files);
	const key = await apiKey(team.owner, team.workspace, 'agents');
	return { key, live: await watchLive(server, team.owner, team.workspace) };
}

/** LONG_PY queued on an agent (`body`) and taken by a new agent `name`, once it reports points. */
async function midRun(
	body: Record<string, unknown>,
	name: string
): Promise<{ live: Peer; run: StartBody['run']; agent: Agent; key: string; peer: Peer }> {
	const { key, live } = await prepare({}, { 'train.py': LONG_PY });
	const { run } = await queueRun(body);
	const agent = startAgent(key, name);
	const peer = await runDoc(run.id);
	const metrics = peer.doc.getArray<MetricPoint>('metrics');
	await docReaches(peer.doc, () => metrics.length >= 2, 'a running job', 20_000);
	return { live, run, agent, key, peer };
}

/** The ids of the runs an agent said it took. */
function taken(agent: Agent): string[] {
	return [...agent.stderr.matchAll(/\] run (\S+) \(/g)].map((m) => m[1] ?? '');
}

describe('agents', () => {
	it('[AGENT1] two agents share five queued runs: each runs exactly once and completes with its metrics and log', async () => {
		const { key, live } = await prepare(
			{ epochs: 3, learning_rate: 0.05 },
			{
				'train.py': TRAIN_PY,
				'helper.py': HELPER_PY
			}
		);
		const runs: StartBody[] = [];
		for (let i = 0; i < 5; i++) runs.push(await queueRun({ runner: 'agent' }));
		const a = startAgent(key, 'gpu-a');
		const b = startAgent(key, 'gpu-b');
		for (const { run } of runs) await statusReaches(live, run.id, 'completed', 60_000);

		const all = [...taken(a), ...taken(b)].sort();
		expect(all).toEqual(runs.map((r) => r.run.id).sort());
		for (const { run } of runs) {
			const record = runOf(live.doc, run.id);
			expect(record?.where).toMatch(/^agent gpu-[ab]$/);
			expect(record?.summary.loss).toBeCloseTo(0.5 / 3);
			const peer = await runDoc(run.id);
			const metrics = peer.doc.getArray<MetricPoint>('metrics');
			const log = peer.doc.getArray<string>('log');
			await docReaches(peer.doc, () => metrics.length === 3 && log.length > 0, 'points and log');
			expect(metrics.toArray().map((p) => p.step)).toEqual([1, 2, 3]);
			// The hyperparameters, the other file and the data set (Iris, 150 rows) were there.
			expect(metrics.get(0).values).toEqual({ loss: 0.5, rows: 150 });
			expect(log.toArray()).toEqual([`hello from ${run.id} target species`]);
			peer.destroy();
		}
		live.destroy();
	}, 90_000);

	it('[AGENT2] an agent killed mid-run is noticed: its run ends lost and, asked for, is queued again and run by another agent', async () => {
		const { live, run, agent, key, peer } = await midRun(
			{ runner: 'agent', requeue: true },
			'doomed'
		);
		agent.child.kill('SIGKILL');
		await statusReaches(live, run.id, 'lost', 20_000);
		const lost = runOf(live.doc, run.id);
		expect(lost?.message).toMatch(/^agent doomed stopped answering \(no heartbeat for 3 s\)/);
		const again = [...live.doc.getMap('runs').keys()].find(
			(id) => runOf(live.doc, id)?.requeue_of === run.id
		);
		expect(again).toBeDefined();
		expect(lost?.message).toContain(`Queued again as "${runOf(live.doc, again ?? '')?.name}"`);
		peer.destroy();

		startAgent(key, 'rescue');
		const rescued = await runDoc(again ?? '');
		const points = rescued.doc.getArray<MetricPoint>('metrics');
		await docReaches(rescued.doc, () => points.length >= 1, 'the re-queued run streaming');
		expect(runOf(live.doc, again ?? '')).toMatchObject({
			status: 'running',
			where: 'agent rescue',
			code: run.code
		});
		rescued.destroy();
		live.destroy();
	}, 90_000);

	it('[AGENT3] a run queued for a named agent goes only to that agent', async () => {
		const { key, live } = await prepare(
			{ epochs: 1, learning_rate: 0.1 },
			{
				'train.py': TRAIN_PY,
				'helper.py': HELPER_PY
			}
		);
		const forBeta = await queueRun({ runner: 'agent', agent: 'beta' });
		const forAny = await queueRun({ runner: 'agent' });
		const alpha = startAgent(key, 'alpha');
		// alpha passes over the older run that is beta's and takes the one for anyone.
		await statusReaches(live, forAny.run.id, 'completed', 30_000);
		expect(runOf(live.doc, forAny.run.id)?.where).toBe('agent alpha');
		expect(runOf(live.doc, forBeta.run.id)?.status).toBe('queued');
		expect(taken(alpha)).toEqual([forAny.run.id]);

		const beta = startAgent(key, 'beta');
		await statusReaches(live, forBeta.run.id, 'completed', 30_000);
		expect(runOf(live.doc, forBeta.run.id)?.where).toBe('agent beta');
		expect(taken(beta)).toEqual([forBeta.run.id]);
		expect(taken(alpha)).toEqual([forAny.run.id]);
		live.destroy();
	}, 90_000);

	it('[AGENT4] stop in the workspace ends the job on the agent, which then takes the next run', async () => {
		const ws = team.workspace;
		const mid = await midRun({ runner: 'agent' }, 'worker');
		const { live, agent, peer } = mid;
		const first = { run: mid.run };
		const stop = await team.owner.post(`/api/workspaces/${ws}/runs/${first.run.id}/stop`);
		expect(stop.status).toBe(200);
		await statusReaches(live, first.run.id, 'stopped', 20_000);
		expect(runOf(live.doc, first.run.id)?.message).toBe('Stopped from the workspace.');

		const second = await queueRun({ runner: 'agent' });
		await statusReaches(live, second.run.id, 'running', 20_000);
		await waitUntil(() => taken(agent).length === 2, 'the agent saying it took the next run');
		expect(taken(agent)).toEqual([first.run.id, second.run.id]);
		peer.destroy();
		live.destroy();
	}, 90_000);

	it('[AGENT5] SIGTERM ends the current run interrupted (queued again when asked) and the agent exits', async () => {
		const { live, run, agent, peer } = await midRun({ runner: 'agent', requeue: true }, 'slurm-42');
		agent.child.kill('SIGTERM');
		expect(await withDeadline(agent.exited, 'the agent to exit', 20_000)).toBe(130);
		await statusReaches(live, run.id, 'interrupted');
		const ended = runOf(live.doc, run.id);
		expect(ended?.message).toMatch(
			/^Interrupted: the agent slurm-42 was stopped \(SIGTERM\)\. Queued again as ".+ \(again\)"\.$/
		);
		const again = [...live.doc.getMap('runs').keys()].find(
			(id) => runOf(live.doc, id)?.requeue_of === run.id
		);
		expect(runOf(live.doc, again ?? '')?.status).toBe('queued');
		peer.destroy();
		live.destroy();
	}, 90_000);

	it('[AGENT6] `ensemble_client.py run` heartbeats: a silent script stays running, a killed reporter leaves its run lost', async () => {
		const ws = team.workspace;
		const silent = 'import time\nprint({"step": 1, "loss": 1.0}, flush=True)\ntime.sleep(120)\n';
		const { key, live } = await prepare({}, { 'train.py': silent });
		const child = spawn(
			'python3',
			[CLIENT, '--url', server.url, '--workspace', ws, '--key', key, 'run', 'train.py'],
			{ stdio: ['ignore', 'ignore', 'ignore'] }
		);
		const exited = new Promise((resolve) => child.on('close', resolve));
		let id = '';
		await waitUntil(
			() => {
				id = [...live.doc.getMap('runs').keys()][0] ?? '';
				return id !== '';
			},
			'the script creating its run',
			20_000
		);
		const created = runOf(live.doc, id)?.created_at ?? 0;
		// Heartbeats alone keep it running well past the 3 s after which a silent run is lost.
		await waitUntil(
			async () => {
				const runners = await team.owner.get<{
					queue: Array<{ run: string; heartbeat_at: number | null }>;
				}>(`/api/workspaces/${ws}/runners`);
				const row = runners.body.queue.find((r) => r.run === id);
				return (row?.heartbeat_at ?? 0) > created + 6000;
			},
			'heartbeats for 6 s',
			30_000
		);
		expect(runOf(live.doc, id)?.status).toBe('running');
		child.kill('SIGKILL');
		await exited;
		await statusReaches(live, id, 'lost', 20_000);
		expect(runOf(live.doc, id)?.message).toMatch(/stopped answering \(no heartbeat for 3 s\)/);
		live.destroy();
	}, 90_000);
	it('[ENTRY1] the workspace chooses another entry file (config.entry), which must be a sane name of a file it has', async () => {
		const ws = team.workspace;
		const fit = 'print({"step": 1, "chosen": 1.0})\n';
		const { key, live } = await prepare(
			{},
			{ 'train.py': 'raise SystemExit(3)', 'models/fit.py': fit }
		);
		const params = await connectPeer(server, team.owner, ws, 'params');
		await synced(params);
		const setEntry = async (entry: unknown): Promise<ErrorReply['error'] | StartBody> => {
			params.doc.getMap('config').set('entry', entry);
			await waitUntil(async () => {
				const reply = await team.owner.get<{ config: Record<string, unknown> }>(
					`/api/workspaces/${ws}/hyperparameters`
				);
				return JSON.stringify(reply.body.config.entry) === JSON.stringify(entry);
			}, 'the config stored');
			const reply = await team.owner.post<StartBody & ErrorReply>(`/api/workspaces/${ws}/runs`, {
				runner: 'agent'
			});
			return reply.status === 400 ? reply.body.error : reply.body;
		};
		for (const [entry, why] of [
			['../etc/passwd.py', /is not a plain name of a Python file/],
			['-c.py', /is not a plain name/],
			['/abs/train.py', /is not a plain name/],
			['notes.txt', /is not a plain name/],
			[42, /config.entry must be a file name, got 42/],
			['other.py', /has no code file "other.py" to run \(it has: models\/fit.py, train.py\)/]
		] as const) {
			const refused = await setEntry(entry);
			expect(refused, String(entry)).toMatchObject({ code: 'invalid_request' });
			expect((refused as ErrorReply['error']).message).toMatch(why);
		}
		const started = (await setEntry('models/fit.py')) as StartBody;
		expect(started.run.entry).toBe('models/fit.py');
		startAgent(key, 'any');
		await statusReaches(live, started.run.id, 'completed', 30_000);
		const peer = await runDoc(started.run.id);
		const metrics = peer.doc.getArray<MetricPoint>('metrics');
		await docReaches(peer.doc, () => metrics.length === 1, 'the point models/fit.py reported');
		expect(metrics.get(0).values).toEqual({ chosen: 1 });
		peer.destroy();
		params.destroy();
		live.destroy();
	}, 90_000);
});
