// The server's sandbox, against the real server and real bubblewrap: the team's
// train.py runs with its hyperparameters and data set, streams metrics and log,
// and hostile scripts end failed or stopped with a message naming the limit while
// the server and other workspaces carry on.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricPoint, RunRecord } from '../../server/protocol/training.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { connectPeer, docReaches, synced } from '../helpers/yjs.ts';
import { runOf, setWorkspace, statusReaches, watchLive, type StartBody } from './helpers.ts';

let server: TestServer;

beforeAll(async () => {
	server = await startTestServer({
		memory: true,
		runnerTimeLimitS: 10,
		runnerMemoryMb: 256,
		runnerScratchMb: 8,
		runnerMaxProcesses: 32,
		// The test's own runs use a full core: they are not what is measured here.
		trainingCpuShare: 1
	});
	await writeFile(join(server.dataDir, 'secret.txt'), 'the server secret');
});

afterAll(async () => {
	await server.close();
});

/** Runs `code` as train.py on the server in a fresh workspace; resolves with the ended run. */
async function runScript(
	code: string,
	end = ['completed', 'failed', 'stopped']
): Promise<{
	team: Team;
	run: RunRecord;
}> {
	const team = await makeTeam(server);
	await setWorkspace(server, team.owner, team.workspace, { epochs: 3 }, { 'train.py': code });
	const live = await watchLive(server, team.owner, team.workspace);
	const start = await team.owner.post<StartBody>(`/api/workspaces/${team.workspace}/runs`, {
		runner: 'server'
	});
	expect(start.status, JSON.stringify(start.body)).toBeLessThan(300);
	const id = start.body.run.id;
	await docReaches(
		live.doc,
		(d) => end.includes(runOf(d, id)?.status ?? ''),
		`run ${id} ended`,
		60_000
	);
	const run = runOf(live.doc, id) as RunRecord;
	live.destroy();
	return { team, run };
}

async function stillServes(): Promise<void> {
	const health = await fetch(`${server.url}/healthz`);
	expect(health.status).toBe(200);
}

describe('runs on the server, in the sandbox', () => {
	it('[RUNQ2][SBX1] train.py runs with the hyperparameters and the data set; JSON lines are metrics, the rest is log', async () => {
		const code = [
			'import json, os, sys',
			'hp = json.loads(os.environ["ENSEMBLE_HYPERPARAMETERS"])',
			'rows = open(os.environ["ENSEMBLE_DATASET"]).read().splitlines()',
			'print("rows", len(rows) - 1, "target", os.environ.get("ENSEMBLE_TARGET"))',
			'open("written-here.txt", "w").write("scratch is writable")',
			'for epoch in range(1, int(hp["epochs"]) + 1):',
			'    print(json.dumps({"epoch": epoch, "sharpness": epoch / 10}))',
			'print("done", file=sys.stderr)'
		].join('\n');
		const { team, run } = await runScript(code);
		expect(run.status, run.message ?? '').toBe('completed');
		expect(run.runner).toBe('server');
		expect(run.where).toMatch(/^server /);
		expect(run.code['train.py']).toBe(code);
		const doc = await connectPeer(server, team.owner, team.workspace, `run/${run.id}`);
		await synced(doc);
		const points = doc.doc.getArray<MetricPoint>('metrics').toArray();
		expect(points.map((p) => p.values.sharpness)).toEqual([0.1, 0.2, 0.3]);
		const log = doc.doc.getArray<string>('log').toArray();
		expect(log).toContain('rows 150 target species');
		expect(log).toContain('done');
		expect(run.log).toMatchObject({ lines: 2, kept: 2 });
		doc.destroy();
	});

	it('[SBX2] a script that opens a socket finds no network', async () => {
		const port = new URL(server.url).port;
		const { run } = await runScript(
			`import socket\nsocket.create_connection(("127.0.0.1", ${port}), timeout=3)\nprint("connected")`
		);
		expect(run.status).toBe('failed');
		expect(run.message).toMatch(/no network/);
		await stillServes();
	});

	it("[SBX3] a script cannot read the server's DATA_DIR", async () => {
		const { run } = await runScript(
			`print(open(${JSON.stringify(join(server.dataDir, 'secret.txt'))}).read())`
		);
		expect(run.status).toBe('failed');
		expect(run.message).toMatch(/FileNotFoundError/);
		expect(JSON.stringify(run)).not.toContain('the server secret');
	});

	it('[SBX4] a fork bomb hits the process limit', async () => {
		const { run } = await runScript('import os\nwhile True:\n    os.fork()');
		expect(['failed', 'stopped']).toContain(run.status);
		expect(run.message).toMatch(/process limit|wall-time limit/);
		await stillServes();
	});

	it('[SBX5] filling the scratch folder hits the scratch limit', async () => {
		const { run } = await runScript(
			'with open("big", "wb") as f:\n    while True:\n        f.write(b"x" * 1048576)\n        f.flush()'
		);
		expect(run.status).toBe('failed');
		expect(run.message).toMatch(/scratch space: the limit is 8 MB/);
	});

	it('[SBX6] allocating without end hits the memory limit', async () => {
		const { run } = await runScript('a = []\nwhile True:\n    a.append(bytearray(10 ** 7))');
		expect(run.status).toBe('failed');
		expect(run.message).toMatch(/memory: the limit is 256 MB/);
	});

	it('[SBX7] a script that never exits ends at the wall-time limit; another workspace trains meanwhile', async () => {
		const other = await makeTeam(server);
		const slow = runScript('import time\nprint("waiting")\nwhile True:\n    time.sleep(1)');
		const { run } = await slow;
		expect(run.status).toBe('failed');
		expect(run.message).toMatch(/wall-time limit: 10 s/);
		const live = await watchLive(server, other.owner, other.workspace);
		const start = await other.owner.post<StartBody>(`/api/workspaces/${other.workspace}/runs`, {
			runner: 'builtin'
		});
		await statusReaches(live, start.body.run.id, 'completed', 60_000);
		live.destroy();
	}, 90_000);

	it('[SBX8] stop ends a sandboxed run as stopped', async () => {
		const team = await makeTeam(server);
		await setWorkspace(
			server,
			team.owner,
			team.workspace,
			{},
			{
				'train.py': 'import time\nprint("started", flush=True)\nwhile True:\n    time.sleep(1)'
			}
		);
		const live = await watchLive(server, team.owner, team.workspace);
		const start = await team.owner.post<StartBody>(`/api/workspaces/${team.workspace}/runs`, {
			runner: 'server'
		});
		const id = start.body.run.id;
		await statusReaches(live, id, 'running');
		const stopped = await team.owner.post<{ run: RunRecord }>(
			`/api/workspaces/${team.workspace}/runs/${id}/stop`
		);
		expect(stopped.status).toBe(200);
		expect(stopped.body.run.status).toBe('stopped');
		live.destroy();
	});
});
