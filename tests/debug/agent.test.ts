// The shared debugger on an agent (DBG12): a run queued for an agent runs under the
// client's debugger on the agent's machine, which relays to its session over HTTP
// with the workspace's API key. A shared breakpoint pauses it; the team sees the
// locals and continues it; the run completes with its metrics. Real server, a real
// `python3 ensemble_client.py agent` process.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../server/protocol/training.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { connectPeer, synced } from '../helpers/yjs.ts';
import { apiKey, runOf, statusReaches } from '../training/helpers.ts';
import { debugWorkspace, pausedSession, startRun } from './fixtures.ts';

const CLIENT = fileURLToPath(new URL('../../clients/python/ensemble_client.py', import.meta.url));

let server: TestServer;

beforeAll(async () => {
	server = await startTestServer({ memory: true });
});

afterAll(async () => {
	await server.close();
});

describe('the shared debugger on an agent', () => {
	it('[DBG12] a run taken by an agent pauses at a shared breakpoint; a teammate sees the locals and continues it; it completes', async () => {
		const w = await debugWorkspace(server, { line: 5, condition: 'epoch == 2' });
		const { team, ws, live } = w;
		const bob = await team.add('Bob', 'editor');
		const key = await apiKey(team.owner, ws, 'gpu box');
		const run = await startRun(w, { runner: 'agent', agent: 'gpu-1' });

		const agent = spawn(
			'python3',
			[CLIENT, '--url', server.url, '--workspace', ws, '--key', key, 'agent', '--name', 'gpu-1'],
			{ stdio: ['ignore', 'pipe', 'pipe'] }
		);
		let stderr = '';
		agent.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		const exited = new Promise((resolve) => agent.on('close', resolve));
		try {
			const paused = await pausedSession(w, run);
			expect(paused.via).toBe('agent');
			expect(paused.paused).toMatchObject({ file: 'train.py', line: 5, reason: 'breakpoint' });
			expect(paused.paused?.stack[0]?.locals ?? []).toEqual(
				expect.arrayContaining([
					expect.objectContaining({ name: 'epoch', value: '2' }),
					expect.objectContaining({ name: 'total', value: '3' })
				])
			);
			expect(runOf(live.doc, run)?.status).toBe('running');

			// Bob, an editor, continues it; the breakpoint's condition is not met again.
			const go = await bob.client.post(
				`/api/workspaces/${ws}/debug/sessions/${paused.id}/commands`,
				{ command: 'continue' }
			);
			expect(go.status, JSON.stringify(go.body)).toBeLessThan(300);
			await statusReaches(live, run, 'completed', 60_000);
			const metrics = await connectPeer(server, team.owner, ws, `run/${run}`);
			await synced(metrics);
			const points = metrics.doc.getArray<MetricPoint>('metrics').toArray();
			expect(points.map((p) => p.values.score)).toEqual([1, 3, 6]);
			metrics.destroy();
		} catch (err) {
			console.log(`[DBG12] agent stderr:\n${stderr}`);
			throw err;
		} finally {
			agent.kill('SIGTERM');
			await exited;
			live.destroy();
		}
	}, 150_000);
});
