import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { ackClient } from '../helpers/ackClient.ts';
import { ApiClient } from '../helpers/http.ts';
import { spawnServer, stopChild, type ChildServer } from '../helpers/process.ts';
import { withDeadline } from '../helpers/wait.ts';

let children: ChildServer[] = [];
let dirs: string[] = [];
afterEach(async () => {
	await Promise.all(children.map(stopChild));
	children = [];
	await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
	dirs = [];
});

async function dataDir(): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), 'ensemble-durability-'));
	dirs.push(dir);
	return dir;
}

async function start(dir: string): Promise<ChildServer> {
	const server = await spawnServer(dir);
	children.push(server);
	return server;
}

describe('durability of the running server', () => {
	it('[OPS4] an update acknowledged as saved survives SIGKILL and a restart on the same DATA_DIR', async () => {
		const dir = await dataDir();
		const first = await start(dir);
		const client = new ApiClient(first.url);
		await client.signup('Kai', 'kai@example.com');
		const workspace = (await client.createWorkspace()).id;
		const token = await client.wsToken(workspace);
		const doc = new Y.Doc();
		const c = ackClient(`${first.wsUrl}/ws/${workspace}/params?ack=1&token=${token}`, doc);
		await c.synced;
		doc.getMap('hyperparameters').set('learning_rate', 0.123);
		doc.getMap('hyperparameters').set('note', 'saved before the crash');
		await c.saved();
		first.child.kill('SIGKILL');
		expect(await first.exited).toBe('SIGKILL');
		c.ws.terminate();

		const second = await start(dir);
		const again = new ApiClient(second.url);
		again.cookie = client.cookie; // the session is stored too
		const state = await again.get<{ state: { hyperparameters: Record<string, unknown> } }>(
			`/api/workspaces/${workspace}/state`
		);
		expect(state.status).toBe(200);
		expect(state.body.state.hyperparameters).toMatchObject({
			learning_rate: 0.123,
			note: 'saved before the crash'
		});
		second.child.kill('SIGTERM');
		expect(await second.exited).toBe(0);
	});

	it('[OPS2][WS3] SIGTERM closes connections with 1012, flushes, and exits 0', async () => {
		const dir = await dataDir();
		const server = await start(dir);
		const client = new ApiClient(server.url);
		await client.signup('Lea', 'lea@example.com');
		const workspace = (await client.createWorkspace()).id;
		const token = await client.wsToken(workspace);
		const doc = new Y.Doc();
		const c = ackClient(`${server.wsUrl}/ws/${workspace}/code?ack=1&token=${token}`, doc);
		await c.synced;
		const closed = withDeadline(
			new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code))),
			'close on SIGTERM'
		);
		const inviteLike = 'NotLoggedNotLoggedNotLogged123';
		expect(
			(await client.post(`/api/workspaces/${workspace}/join?token=${inviteLike}`)).status
		).toBe(400);
		server.child.kill('SIGTERM');
		expect(await closed).toBe(1012);
		expect(await server.exited).toBe(0);
		expect(server.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
		// [WS3] No log line carries a token, though request URLs are logged.
		expect(
			server.lines.some((l) => l.includes(`/api/workspaces/${workspace}/join?[redacted]`))
		).toBe(true);
		expect(server.lines.some((l) => l.includes(token) || l.includes(inviteLike))).toBe(false);
	});
});
