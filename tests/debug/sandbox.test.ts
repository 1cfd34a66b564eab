// The shared debugger on the server's sandbox (DBG11): a run started with
// "Start training" on the server runs under the client's debugger inside bwrap,
// talking to its session over fd 3 (the sandbox has no network). A shared
// breakpoint pauses it; people see the locals, evaluate and continue; the run
// completes with its metrics. Real server, real bubblewrap, real python3.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breakpointsMap } from '../../server/protocol/debug.ts';
import { debugWorkspace, pausedSession, sessionOf, startRun } from './fixtures.ts';
import type { MetricPoint } from '../../server/protocol/training.ts';
import { makeTeam, startTestServer, type TestServer } from '../helpers/server.ts';
import { connectPeer, docReaches, synced } from '../helpers/yjs.ts';
import {
	runOf,
	setWorkspace,
	statusReaches,
	watchLive,
	type StartBody
} from '../training/helpers.ts';

let server: TestServer;

beforeAll(async () => {
	server = await startTestServer({
		memory: true,
		runnerTimeLimitS: 120,
		runnerMemoryMb: 512,
		runnerMaxProcesses: 32,
		trainingCpuShare: 1
	});
});

afterAll(async () => {
	await server.close();
});

describe('the shared debugger on the sandbox', () => {
	it('[DBG11] a run started on the server pauses at a shared breakpoint, is evaluated and continued, and completes with its metrics', async () => {
		const w = await debugWorkspace(server, { line: 5, condition: 'epoch >= 2' });
		const { team, ws, live } = w;
		const viewer = await team.add('Vera', 'viewer');
		const run = await startRun(w, { runner: 'server' });
		const paused = await pausedSession(w, run);
		expect(paused.via).toBe('sandbox');
		expect(paused.paused).toMatchObject({ file: 'train.py', line: 5, reason: 'breakpoint' });
		expect(paused.paused?.breakpoint?.by.name).toBe('Olivia');
		const locals = paused.paused?.stack[0]?.locals ?? [];
		expect(locals).toEqual(
			expect.arrayContaining([
				expect.objectContaining({ name: 'epoch', value: '2' }),
				expect.objectContaining({ name: 'total', value: '3' })
			])
		);
		expect(runOf(live.doc, run)?.status).toBe('running');

		// A viewer watches; the owner evaluates and everyone sees the result.
		const commands = `/api/workspaces/${ws}/debug/sessions/${paused.id}/commands`;
		const refused = await viewer.client.post(commands, { command: 'continue' });
		expect(refused.status).toBe(403);
		const asked = await team.owner.post(commands, { command: 'eval', expression: 'total * 10' });
		expect(asked.status, JSON.stringify(asked.body)).toBeLessThan(300);
		await docReaches(
			live.doc,
			(d) => sessionOf(d, run)?.results.some((r) => r.value === '30') ?? false,
			'the evaluation result',
			30_000
		);
		expect(sessionOf(live.doc, run)?.results.at(-1)?.by.name).toBe('Olivia');

		// Cleared while paused, then continued: the run goes on to the end.
		const cleared = await team.owner.delete(`/api/workspaces/${ws}/debug/breakpoints/${w.bp}`);
		expect(cleared.status).toBe(204);
		const go = await team.owner.post(commands, { command: 'continue' });
		expect(go.status, JSON.stringify(go.body)).toBeLessThan(300);
		await statusReaches(live, run, 'completed', 60_000);
		await docReaches(
			live.doc,
			(d) => sessionOf(d, run)?.status === 'ended',
			'the session ended',
			30_000
		);
		const metrics = await connectPeer(server, team.owner, ws, `run/${run}`);
		await synced(metrics);
		const points = metrics.doc.getArray<MetricPoint>('metrics').toArray();
		expect(points.map((p) => p.values.score)).toEqual([1, 3, 6]);
		metrics.destroy();
		live.destroy();
	}, 150_000);

	it('[DBG6] [DBG11] Stop from the debugger ends a paused sandboxed run stopped, naming who stopped it', async () => {
		const w = await debugWorkspace(server, { line: 4 });
		const { team, ws, live } = w;
		const run = await startRun(w, { runner: 'server' });
		const { id } = await pausedSession(w, run);
		const stop = await team.owner.post(`/api/workspaces/${ws}/debug/sessions/${id}/commands`, {
			command: 'stop'
		});
		expect(stop.status, JSON.stringify(stop.body)).toBeLessThan(300);
		await statusReaches(live, run, 'stopped', 60_000);
		expect(runOf(live.doc, run)?.stopped_by?.name).toBe('Olivia');
		await docReaches(live.doc, (d) => sessionOf(d, run)?.status === 'ended', 'ended', 30_000);
		live.destroy();
	}, 120_000);

	it('[DBG11] what the script writes on fd 3 is checked: junk and malformed events are dropped, the run goes on', async () => {
		const team = await makeTeam(server);
		const ws = team.workspace;
		const junk = [
			'import json, os',
			'os.write(3, b"not json\\n")',
			'os.write(3, b\'{"t": "paused", "file": "train.py"}\\n\')',
			'os.write(3, b"x" * 100000 + b"\\n")',
			'print(json.dumps({"epoch": 1, "score": 1}))'
		].join('\n');
		await setWorkspace(server, team.owner, ws, { epochs: 1 }, { 'train.py': junk });
		const live = await watchLive(server, team.owner, ws);
		const start = await team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`, {
			runner: 'server'
		});
		const run = start.body.run.id;
		await statusReaches(live, run, 'completed', 60_000);
		await docReaches(live.doc, (d) => sessionOf(d, run)?.status === 'ended', 'ended', 30_000);
		expect(sessionOf(live.doc, run)?.paused).toBeNull();
		live.destroy();
	}, 120_000);
});

describe('a sandboxed script that dies while paused', () => {
	let short: TestServer;
	beforeAll(async () => {
		short = await startTestServer({ memory: true, runnerTimeLimitS: 8, trainingCpuShare: 1 });
	});
	afterAll(async () => {
		await short.close();
	});

	it('[DBG3] [DBG11] is marked gone with its last pause and a note; the breakpoint stays', async () => {
		const w = await debugWorkspace(short, { line: 4 });
		const { team, ws, live } = w;
		const run = await startRun(w, { runner: 'server' });
		await pausedSession(w, run);
		// Nobody continues: the wall-time limit kills the paused process.
		await docReaches(live.doc, (d) => sessionOf(d, run)?.status === 'gone', 'gone', 60_000);
		const gone = sessionOf(live.doc, run)!;
		expect(gone.paused?.line).toBe(4);
		expect(gone.note).toMatch(/while paused/);
		await statusReaches(live, run, 'failed', 30_000);
		expect(runOf(live.doc, run)?.message).toMatch(/wall-time limit/);
		const code = await connectPeer(short, team.owner, ws, 'code');
		await synced(code);
		expect(breakpointsMap(code.doc).has(w.bp)).toBe(true);
		code.destroy();
		live.destroy();
	}, 120_000);
});
