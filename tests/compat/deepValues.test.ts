// Deeply nested values on every write path of the real server, and documents that
// stored one before the limit existed (SPEC.md LIMIT7, LIMIT9; issue 19, hole 2).

import { Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MAX_VALUE_DEPTH } from '../../server/protocol/values.ts';
import type { RoomName } from '../../server/protocol/docs.ts';
import { createStorage } from '../../server/storage/index.ts';
import { silentLogger, systemClock } from '../../server/runtime.ts';
import { startTestServer, makeTeam, type Team, type TestServer } from '../helpers/server.ts';
import { connectPeer, synced } from '../helpers/yjs.ts';
import { JsonClient } from './jsonClient.ts';
import { deepAnyUpdate, deepArrayJson } from '../helpers/deep.ts';

let server: TestServer | null = null;
const open: { close(): unknown }[] = [];
const dirs: string[] = [];

afterEach(async () => {
	for (const o of open.splice(0).reverse()) await o.close();
	await server?.close();
	server = null;
	for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function json(s: TestServer, team: Team): Promise<JsonClient> {
	const token = await team.owner.wsToken(team.workspace);
	const c = await JsonClient.connect(`${s.wsUrl}/ws/workspace/${team.workspace}?token=${token}`);
	open.push(c);
	return c;
}

describe('the JSON protocol applies the relay’s limits', () => {
	it('[LIMIT7] a state_update nested 4,300 deep is refused with value_too_deep, stored nowhere, and the socket stays usable', async () => {
		server = await startTestServer({ memory: true });
		const team = await makeTeam(server);
		const c = await json(server, team);
		const cases = [
			`{"type":"state_update","path":"k","value":${deepArrayJson(4300)}}`,
			`{"type":"state_update","path":"k","value":${deepArrayJson(MAX_VALUE_DEPTH + 1)}}`,
			// Below a dotted path the value sits that many objects deeper.
			`{"type":"state_update","path":"k.a.b","value":${deepArrayJson(MAX_VALUE_DEPTH - 1)}}`,
			`{"type":"cursor_position","position":${deepArrayJson(1500)}}`,
			`{"type":"presence_update","updates":{"cursor_position":${deepArrayJson(1500)}}}`
		];
		for (const text of cases) {
			const from = c.mark();
			c.send(text);
			const err = await c.waitFor(
				(m) => m.type === 'error',
				`error for ${text.slice(0, 60)}`,
				from
			);
			expect(err.code, text.slice(0, 60)).toBe('value_too_deep');
		}
		// At the limit is fine, and the connection still works.
		const from = c.mark();
		c.send(`{"type":"state_update","path":"k","value":${deepArrayJson(MAX_VALUE_DEPTH)}}`);
		await c.waitFor((m) => m.type === 'state_update' && m.path === 'k', 'the allowed write', from);
		const params = await team.owner.get<{ config: Record<string, unknown> }>(
			`/api/workspaces/${team.workspace}/hyperparameters`
		);
		expect(params.status).toBe(200);
		expect(Object.keys(params.body.config)).toContain('k');
	});

	it('[LIMIT7] an HTTP body nested past the limit is refused with 400 value_too_deep', async () => {
		server = await startTestServer({ memory: true });
		const team = await makeTeam(server);
		const reply = await team.owner.request(
			'POST',
			`/api/workspaces/${team.workspace}/runs`,
			`{"name":${deepArrayJson(5000)}}`
		);
		expect(reply.status).toBe(400);
		expect((reply.body as { error: { code: string } }).error.code).toBe('value_too_deep');
	});
});

describe('documents stored before the limit', () => {
	it('[LIMIT9] params holding a value nested 20,000 deep (stored by an old server) loads: the value is replaced, logged, and nothing answers 500', async () => {
		const dataDir = await mkdtemp(join(tmpdir(), 'ensemble-deep-'));
		dirs.push(dataDir);
		const first = await startTestServer({ dataDir });
		const team = await makeTeam(first);
		await first.close();

		// As an old server would have stored it: straight into storage.
		const room = `${team.workspace}/params` as RoomName;
		const store = await createStorage({ dataDir, clock: systemClock, logger: silentLogger });
		await store.appendUpdates([
			{ room, update: deepAnyUpdate('config', 'k', 20_000), author: null, at: Date.now() }
		]);
		await store.close();

		const lines: string[] = [];
		const logger = pino(
			{ level: 'info' },
			new Writable({
				write(chunk: Buffer, _enc, done) {
					lines.push(chunk.toString('utf8'));
					done();
				}
			})
		);
		server = await startTestServer({ dataDir, logger });
		const s = server;
		const base = `/api/workspaces/${team.workspace}`;
		// The same session, at the restarted server's address.
		const owner = s.client();
		owner.cookie = team.owner.cookie;
		const restarted: Team = { ...team, owner };

		const params = await owner.get<{ config: Record<string, unknown> }>(`${base}/hyperparameters`);
		expect(params.status).toBe(200);
		expect(params.body.config.k).toBeNull();
		expect((await owner.get(`${base}/state`)).status).toBe(200);
		const peer = await connectPeer(s, owner, team.workspace, 'params');
		open.push({ close: () => peer.destroy() });
		await synced(peer);
		expect(peer.doc.getMap('config').get('k')).toBeNull();
		const c = await json(s, restarted);
		expect(c.welcome.state.k).toBeNull();
		const run = await owner.post(`${base}/runs`, {});
		expect([201, 202]).toContain(run.status);

		const logged = lines.map((l) => JSON.parse(l) as { msg?: string; room?: string });
		expect(
			logged.some((l) => l.room === room && /nested too deeply/.test(l.msg ?? '')),
			'a log line names the room'
		).toBe(true);
	});
});
