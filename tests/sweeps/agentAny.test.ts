// SWEEP3 with real executors: a sweep for runner "any" is shared by the server's
// sandbox and a real `python3 ensemble_client.py agent`. Each configuration runs
// once, and the runs the agent took accept its metric reports like any agent run.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { SweepRecord } from '../../server/protocol/sweeps.ts';
import type { RunRecord } from '../../server/protocol/training.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { docReaches } from '../helpers/yjs.ts';
import { apiKey, runOf, setWorkspace, watchLive } from '../training/helpers.ts';

const CLIENT = fileURLToPath(new URL('../../clients/python/ensemble_client.py', import.meta.url));

/** A few metric lines, slow enough that the agent and the sandbox both get work. */
const TRAIN_PY = `import json, os, time
hp = json.loads(os.environ["ENSEMBLE_HYPERPARAMETERS"])
for epoch in range(1, 4):
    time.sleep(0.3)
    print(json.dumps({"epoch": epoch, "val_loss": hp["learning_rate"] / epoch}), flush=True)
`;

let server: TestServer;
let team: Team;
let agent: ChildProcess | null = null;
let agentExit: Promise<unknown> = Promise.resolve();

beforeEach(async () => {
	server = await startTestServer({ memory: true, trainingCpuShare: 1 });
	team = await makeTeam(server);
});

afterEach(async () => {
	if (agent && agent.exitCode === null) agent.kill('SIGKILL');
	await agentExit;
	agent = null;
	await server.close();
});

it('[SWEEP3] an agent and the server sandbox share a sweep for "any": each configuration runs once, all with metrics', async () => {
	const ws = team.workspace;
	await setWorkspace(server, team.owner, ws, { epochs: 3 }, { 'train.py': TRAIN_PY });
	const key = await apiKey(team.owner, ws, 'sweep agent');
	const live = await watchLive(server, team.owner, ws);
	let stderr = '';
	agent = spawn(
		'python3',
		[CLIENT, '--url', server.url, '--workspace', ws, '--key', key, 'agent', '--name', 'laptop'],
		{ stdio: ['ignore', 'ignore', 'pipe'] }
	);
	agent.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
	const child = agent;
	agentExit = new Promise((resolve) => child.on('close', resolve));

	const started = await team.owner.post<{ sweep: SweepRecord }>(`/api/workspaces/${ws}/sweeps`, {
		method: 'grid',
		parameters: { learning_rate: { values: [0.01, 0.02, 0.03, 0.04, 0.05, 0.06] } },
		metric: 'val_loss',
		goal: 'minimize',
		runner: 'any'
	});
	expect(started.status, JSON.stringify(started.body)).toBe(201);
	const sweep = started.body.sweep.id;
	const runs = (): RunRecord[] =>
		[...live.doc.getMap('runs').keys()]
			.map((id) => runOf(live.doc, id))
			.filter((r): r is RunRecord => r?.sweep === sweep);
	const ended = (r: RunRecord) => !['queued', 'running'].includes(r.status);
	await docReaches(
		live.doc,
		() => runs().length >= 6 && runs().every(ended),
		'every sweep run ended',
		90_000
	);
	const all = runs();
	const detail = JSON.stringify(
		all.map((r) => [r.sweep_index, r.status, r.where, r.message]),
		null,
		1
	);
	// Each configuration once: six runs, six indexes, no re-run.
	expect(all.length, detail).toBe(6);
	expect(new Set(all.map((r) => r.sweep_index)).size, detail).toBe(6);
	expect(
		all.every((r) => r.status === 'completed'),
		`${detail}\nagent: ${stderr}`
	).toBe(true);
	const byAgent = all.filter((r) => r.where === 'agent laptop');
	const bySandbox = all.filter((r) => r.where !== 'agent laptop');
	expect(byAgent.length, detail).toBeGreaterThan(0);
	expect(bySandbox.length, detail).toBeGreaterThan(0);
	// Every run, the agent's too, kept its last metric: learning_rate / 3.
	for (const run of all) {
		expect(run.summary.val_loss, detail).toBeCloseTo(Number(run.params.learning_rate) / 3, 6);
	}
	live.destroy();
}, 120_000);
