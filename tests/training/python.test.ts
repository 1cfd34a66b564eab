import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { MetricPoint, RunRecord } from '../../server/protocol/training.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { withDeadline } from '../helpers/wait.ts';
import { connectPeer, docReaches, synced } from '../helpers/yjs.ts';
import { apiKey, runOf, setWorkspace, statusReaches, watchLive } from './helpers.ts';

const CLIENT = fileURLToPath(new URL('../../clients/python/ensemble_client.py', import.meta.url));

const TRAIN_PY = `import time
import ensemble_client

hp = ensemble_client.hyperparameters()
print("training with lr", hp["learning_rate"])
for epoch in range(1, hp["epochs"] + 1):
    time.sleep(0.3)
    ensemble_client.report(epoch=epoch, loss=1.0 / epoch, accuracy=1 - 0.5 / epoch)
print({"epoch": hp["epochs"] + 1, "loss": 0.01})
`;

const CRASH_PY = `print("starting")
print({"epoch": 1, "loss": 0.7})
raise ValueError("loss is nan")
`;

let server: TestServer;
let team: Team;

beforeEach(async () => {
	server = await startTestServer({ memory: true });
	team = await makeTeam(server);
});

afterEach(async () => {
	await server.close();
});

function runClient(
	key: string,
	...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
	const child = spawn(
		'python3',
		[CLIENT, '--url', server.url, '--workspace', team.workspace, '--key', key, ...args],
		{ stdio: ['ignore', 'pipe', 'pipe'] }
	);
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
	child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
	return withDeadline(
		new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))),
		`python3 ensemble_client.py ${args.join(' ')}`,
		30_000
	);
}

/** The first run of the given source to appear in `live`. */
async function firstRun(live: Y.Doc): Promise<RunRecord> {
	const find = () =>
		[...live.getMap<Y.Map<unknown>>('runs').keys()].map((id) => runOf(live, id))[0] ?? null;
	await docReaches(live, () => find() !== null, 'a run in live', 15_000);
	const run = find();
	if (!run) throw new Error('no run');
	return run;
}

describe('the Python client against the real server', () => {
	it('[KEY3] `run` fetches train.py and the hyperparameters, runs it here and streams its metrics as a run', async () => {
		const ws = team.workspace;
		await setWorkspace(
			server,
			team.owner,
			ws,
			{ epochs: 6, learning_rate: 0.05 },
			{ 'train.py': TRAIN_PY }
		);
		const key = await apiKey(team.owner, team.workspace, 'python');
		const live = await watchLive(server, team.owner, ws);
		const viewer = await team.add('Pia', 'viewer');
		const finished = runClient(key, 'run', 'train.py', '--name', 'from python');

		const run = await firstRun(live.doc);
		expect(run).toMatchObject({ source: 'external', name: 'from python', status: 'running' });
		expect(run.params).toMatchObject({ epochs: 6, learning_rate: 0.05 });
		expect(run.code['train.py']).toBe(TRAIN_PY);
		const watcher = await connectPeer(server, viewer.client, ws, `run/${run.id}`);
		await synced(watcher);
		const metrics = watcher.doc.getArray<MetricPoint>('metrics');
		let seenWhileRunning = false;
		metrics.observe(() => {
			if (runOf(live.doc, run.id)?.status === 'running') seenWhileRunning = true;
		});

		const result = await finished;
		expect(result.stderr).toContain('completed');
		expect(result.code).toBe(0);
		expect(result.stdout).toContain('training with lr 0.05');
		await statusReaches(live, run.id, 'completed');
		await docReaches(watcher.doc, () => metrics.length === 7, 'seven points');
		expect(metrics.toArray().map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7]);
		expect(metrics.get(1)?.values).toEqual({ loss: 0.5, accuracy: 0.75 });
		// The Python dict literal line counts too.
		expect(metrics.get(6)?.values).toEqual({ loss: 0.01 });
		expect(seenWhileRunning).toBe(true);
		watcher.destroy();
		live.destroy();
	});

	it('[KEY3] a crashing script ends its run failed with the last lines of its output', async () => {
		const ws = team.workspace;
		await setWorkspace(server, team.owner, ws, {}, { 'crash.py': CRASH_PY });
		const key = await apiKey(team.owner, team.workspace, 'python');
		const live = await watchLive(server, team.owner, ws);
		const result = await runClient(key, 'run', 'crash.py');
		expect(result.code, result.stderr).toBe(1);
		const run = await firstRun(live.doc);
		await statusReaches(live, run.id, 'failed');
		const failed = runOf(live.doc, run.id);
		expect(failed?.message).toBe('crash.py exited with code 1');
		expect(failed?.output[0]).toBe('starting');
		expect(failed?.output.join('\n')).toMatch(/Traceback[\s\S]*ValueError: loss is nan$/);
		expect(failed?.summary.loss).toBe(0.7);
		live.destroy();
	});

	it('[KEY2] the CLI reports a revoked key clearly', async () => {
		const key = await apiKey(team.owner, team.workspace, 'python');
		const keys = await team.owner.get<{ api_keys: Array<{ id: string }> }>(
			`/api/workspaces/${team.workspace}/api-keys`
		);
		await team.owner.delete(
			`/api/workspaces/${team.workspace}/api-keys/${keys.body.api_keys[0]?.id}`
		);
		const result = await runClient(key, 'params');
		expect(result.code).toBe(2);
		expect(result.stderr).toContain(
			'error: The API key "python" was revoked. (401 unauthenticated)'
		);
	});
});
