import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/http.ts';
import { email, startTestServer, TEST_SECRET, type TestServer } from '../helpers/server.ts';
import { withDeadline } from '../helpers/wait.ts';
import { connectPeer, docReaches, synced } from '../helpers/yjs.ts';
import { runOf, setWorkspace, type StartBody, BUILTIN } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');

let child: ChildProcess | null = null;
let server: TestServer | null = null;
let dataDir: string | null = null;

afterEach(async () => {
	child?.kill('SIGKILL');
	child = null;
	await server?.close();
	server = null;
	if (dataDir) await rm(dataDir, { recursive: true, force: true });
	dataDir = null;
});

/** The real server in its own process (so it can be killed), resolved with its URL once listening. */
function startChild(dir: string): Promise<string> {
	const proc = spawn(NODE, ['server/main.ts'], {
		cwd: ROOT,
		env: {
			...process.env,
			PORT: '0',
			HOST: '127.0.0.1',
			DATA_DIR: dir,
			SECRET: TEST_SECRET,
			LOG_LEVEL: 'info'
		},
		stdio: ['ignore', 'pipe', 'inherit']
	});
	child = proc;
	let buffer = '';
	return withDeadline(
		new Promise<string>((resolve, reject) => {
			proc.on('exit', (code) => reject(new Error(`server exited early with code ${code}`)));
			proc.stdout?.on('data', (chunk: Buffer) => {
				buffer += chunk.toString();
				for (const line of buffer.split('\n')) {
					if (!line.includes('"listening"')) continue;
					resolve((JSON.parse(line) as { url: string }).url);
				}
				buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
			});
		}),
		'the server process to listen',
		20_000
	);
}

describe('a restart during a run', () => {
	it('[TRAIN8][RUNQ1] a run that was training when the server was killed is interrupted after the restart; the queued one survives and starts', async () => {
		dataDir = await mkdtemp(join(tmpdir(), 'ensemble-train-restart-'));
		const url = await startChild(dataDir);
		const owner = new ApiClient(url);
		await owner.signup('Rita', email('rita'));
		const ws = (await owner.createWorkspace()).id;
		// Long enough to be mid-run whenever the kill comes.
		await setWorkspace({ wsUrl: url.replace(/^http/, 'ws') } as TestServer, owner, ws, {
			epochs: 10_000
		});
		const first = await owner.post<StartBody>(`/api/workspaces/${ws}/runs`, BUILTIN);
		const queued = await owner.post<StartBody>(`/api/workspaces/${ws}/runs`, BUILTIN);
		expect(first.status).toBe(201);
		expect(queued.status).toBe(202);
		const running = await owner.get<{ run: { status: string } }>(
			`/api/workspaces/${ws}/runs/${first.body.run.id}`
		);
		expect(running.body.run.status).not.toBe('completed');

		const exited = new Promise((resolve) => child?.once('exit', resolve));
		child?.kill('SIGKILL');
		await exited;
		child = null;

		server = await startTestServer({ dataDir });
		const again = new ApiClient(server.url);
		again.cookie = owner.cookie;
		const live = await connectPeer(server, again, ws, 'live');
		await synced(live);
		await docReaches(
			live.doc,
			(d) => runOf(d, first.body.run.id)?.status === 'interrupted',
			'the running run interrupted'
		);
		expect(runOf(live.doc, first.body.run.id)?.message).toMatch(/server stopped/);
		// The queue is stored: the run that was waiting survives the restart and starts.
		await docReaches(
			live.doc,
			(d) => runOf(d, queued.body.run.id)?.status === 'running',
			'the queued run started after the restart'
		);
		const queue = await server.storage.listQueue();
		expect(queue.map((r) => [r.run, r.state])).toEqual([[queued.body.run.id, 'running']]);
		await again.post(`/api/workspaces/${ws}/runs/${queued.body.run.id}/stop`);
		await docReaches(
			live.doc,
			(d) => runOf(d, queued.body.run.id)?.status === 'stopped',
			'stopped'
		);
		expect(live.doc.getMap('training').get('status')).toBe('stopped');
		const state = await again.get<{ state: { training_status: string } }>(
			`/api/workspaces/${ws}/state`
		);
		expect(state.body.state.training_status).toBe('stopped');
		live.destroy();
	});

	it('[TRAIN8] a graceful shutdown marks the running run interrupted', async () => {
		server = await startTestServer({ memory: true });
		const owner = server.client();
		await owner.signup('Gus', email('gus'));
		const ws = (await owner.createWorkspace()).id;
		const started = await owner.post<StartBody>(`/api/workspaces/${ws}/runs`, BUILTIN);
		const live = await connectPeer(server, owner, ws, 'live');
		await synced(live);
		await docReaches(
			live.doc,
			(d) => runOf(d, started.body.run.id)?.status === 'running',
			'running'
		);
		const interrupted = new Promise<unknown>((resolve) => {
			live.doc.on('update', () => {
				if (runOf(live.doc, started.body.run.id)?.status === 'interrupted') resolve(true);
			});
		});
		await server.close();
		server = null;
		await withDeadline(interrupted, 'interrupted status before the relay closed');
		live.destroy();
	});
});
