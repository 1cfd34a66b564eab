// Activity, past states and restore through the real server (issue 13), on
// SQLite and on PostgreSQL, with a restart and a compaction in between.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { makeTeam, startTestServer, type TestServer } from '../helpers/server.ts';
import { freshDatabase, servicesAvailable } from '../helpers/services.ts';
import { connectPeer, synced, type Peer } from '../helpers/yjs.ts';
import { waitUntil } from '../helpers/wait.ts';
import type { ApiClient } from '../helpers/http.ts';
import type { RoomName } from '../../server/protocol/docs.ts';

interface Entry {
	id: string;
	at: string;
	user: { id: string; name: string } | null;
	kind: string;
	summary: string;
	data: Record<string, unknown>;
}

const cleanups: Array<() => Promise<unknown>> = [];
const peers: Peer[] = [];
afterEach(async () => {
	for (const p of peers.splice(0)) p.destroy();
	for (const c of cleanups.splice(0).reverse()) await c();
});

async function peer(server: TestServer, client: ApiClient, ws: string, doc: string) {
	const p = await connectPeer(server, client, ws, doc);
	peers.push(p);
	await synced(p);
	return p;
}

async function activity(client: ApiClient, ws: string, query = ''): Promise<Entry[]> {
	const r = await client.get<{ entries: Entry[] }>(`/api/workspaces/${ws}/activity${query}`);
	expect(r.status).toBe(200);
	return r.body.entries;
}

async function until(client: ApiClient, ws: string, match: (e: Entry) => boolean, what: string) {
	let found: Entry | undefined;
	await waitUntil(async () => {
		found = (await activity(client, ws)).find(match);
		return found !== undefined;
	}, what);
	return found!;
}

const files = (doc: Y.Doc) => doc.getMap<Y.Text>('files');
const hp = (doc: Y.Doc) => doc.getMap<unknown>('hyperparameters');

type Backend = { name: string; start: (dir: string) => Promise<TestServer> };

const backends: Backend[] = [{ name: 'SQLite', start: (dir) => startTestServer({ dataDir: dir }) }];
let pgUrl: string | null = null;
backends.push({
	name: 'PostgreSQL',
	start: (dir) => startTestServer({ dataDir: dir, databaseUrl: pgUrl! })
});

let pgAvailable = false;
beforeAll(async () => {
	pgAvailable = await servicesAvailable('tests/history/history.test.ts');
});

describe.each(backends)('history on $name', { timeout: 60_000 }, (backend) => {
	async function boot(): Promise<{ start: () => Promise<TestServer> }> {
		if (backend.name === 'PostgreSQL') {
			const db = await freshDatabase();
			pgUrl = db.url;
			cleanups.push(() => db.drop());
		}
		const dir = await mkdtemp(join(tmpdir(), 'ensemble-history-'));
		cleanups.push(() => rm(dir, { recursive: true, force: true }));
		return { start: () => backend.start(dir) };
	}

	it('[HIST3][HIST4] edits become entries in words, one person’s edits to one file merged; viewers read; filters', async (ctx) => {
		if (backend.name === 'PostgreSQL' && !pgAvailable) return ctx.skip();
		const { start } = await boot();
		const server = await start();
		cleanups.push(() => server.close());
		const team = await makeTeam(server, 'Alice');
		const bob = await team.add('Bob', 'editor');
		const vera = await team.add('Vera', 'viewer');
		const ws = team.workspace;

		const params = await peer(server, team.owner, ws, 'params');
		hp(params.doc).set('learning_rate', 0.1);
		const set = await until(
			team.owner,
			ws,
			(e) => e.kind === 'hyperparameter',
			'the change of learning_rate'
		);
		expect(set.summary).toBe('Alice set learning_rate 0.01 → 0.1');
		expect(set.user).toEqual({ id: team.ownerId, name: 'Alice' });
		expect(set.data).toMatchObject({ field: 'learning_rate', from: 0.01, to: 0.1 });

		const code = await peer(server, bob.client, ws, 'code');
		const text = files(code.doc).get('train.py')!;
		// Several separate updates within a minute: one entry.
		text.insert(0, '# tuned\n');
		await until(team.owner, ws, (e) => e.kind === 'file_edited', 'the first edit');
		text.insert(0, '# by Bob\n# twice\n');
		const lastLine = text.toJSON().split('\n').length;
		void lastLine;
		await waitUntil(async () => {
			const e = (await activity(team.owner, ws)).find((x) => x.kind === 'file_edited');
			return e?.data.added === 3;
		}, 'the merged edit');
		const edits = (await activity(vera.client, ws, '?kind=file_edited')).filter(
			(e) => e.user?.id === bob.id
		);
		expect(edits).toHaveLength(1);
		expect(edits[0]!.summary).toBe('Bob edited train.py (+3 −0 lines)');
		expect(edits[0]!.data).toMatchObject({ file: 'train.py', line: 1 });

		// File added and deleted.
		files(code.doc).set('utils.py', new Y.Text('x = 1\n'));
		await until(team.owner, ws, (e) => e.kind === 'file_added', 'the new file');

		// Filter by person: only Alice's entries.
		const alices = await activity(vera.client, ws, `?user=${team.ownerId}`);
		expect(alices.length).toBeGreaterThan(0);
		expect(alices.every((e) => e.user?.id === team.ownerId)).toBe(true);
		// Newest first, paged.
		const page1 = await team.owner.get<{ entries: Entry[]; next_before: string | null }>(
			`/api/workspaces/${ws}/activity?limit=1`
		);
		expect(page1.body.entries).toHaveLength(1);
		const page2 = await activity(team.owner, ws, `?limit=1&before=${page1.body.next_before}`);
		expect(page2[0]!.id < page1.body.entries[0]!.id).toBe(true);

		const bad = await team.owner.get<{ error: { code: string; message: string } }>(
			`/api/workspaces/${ws}/activity?kind=nonsense`
		);
		expect(bad.status).toBe(400);
		expect(bad.body.error.message).toMatch(/Unknown kind "nonsense"/);
	});

	it('[HIST7] members joining and role changes are in the feed', async (ctx) => {
		if (backend.name === 'PostgreSQL' && !pgAvailable) return ctx.skip();
		const { start } = await boot();
		const server = await start();
		cleanups.push(() => server.close());
		const team = await makeTeam(server, 'Alice');
		const bob = await team.add('Bob', 'viewer');
		await until(team.owner, team.workspace, (e) => e.kind === 'member_joined', 'Bob joining');
		const patched = await team.owner.patch(`/api/workspaces/${team.workspace}/members/${bob.id}`, {
			role: 'editor'
		});
		expect(patched.status).toBe(200);
		const changed = await until(
			team.owner,
			team.workspace,
			(e) => e.kind === 'role_changed',
			'the role change'
		);
		expect(changed.summary).toBe('Alice made Bob editor');
		const joined = (await activity(team.owner, team.workspace)).find(
			(e) => e.kind === 'member_joined'
		);
		expect(joined!.summary).toBe('Bob joined as viewer');
	});

	it('[HIST1][HIST2][HIST6] any past moment survives a restart and a compaction; restore is a new change; bad input changes nothing', async (ctx) => {
		if (backend.name === 'PostgreSQL' && !pgAvailable) return ctx.skip();
		const { start } = await boot();
		let server = await start();
		const team = await makeTeam(server, 'Alice');
		const vera = await team.add('Vera', 'viewer');
		const ws = team.workspace;
		const params = await peer(server, team.owner, ws, 'params');
		const code = await peer(server, team.owner, ws, 'code');
		hp(params.doc).set('learning_rate', 0.05);
		files(code.doc).get('train.py')!.insert(0, '# version one\n');
		await until(team.owner, ws, (e) => e.kind === 'file_edited', 'version one');
		await until(team.owner, ws, (e) => e.kind === 'hyperparameter', 'lr 0.05');
		const moment = new Date(Date.now() + 1).toISOString();
		await waitUntil(() => Date.now() > Date.parse(moment) + 1, 'the clock to pass the moment');
		hp(params.doc).set('learning_rate', 0.3);
		hp(params.doc).set('batch_size', 64);
		const t = files(code.doc).get('train.py')!;
		t.delete(0, t.length);
		t.insert(0, 'print("rewritten")\n');
		files(code.doc).set('notes.py', new Y.Text('# later\n'));
		await waitUntil(
			async () => (await activity(team.owner, ws, '?kind=file_added')).length > 0,
			'the later changes'
		);
		for (const p of peers.splice(0)) p.destroy();
		await server.close();

		// Restart, then fold the log into a snapshot as the relay does on unload.
		server = await start();
		cleanups.push(() => server.close());
		// The same people, signed in, on the restarted server (a new port).
		const moved = (c: ApiClient) => Object.assign(server.client(), { cookie: c.cookie });
		const owner = moved(team.owner);
		const veraClient = moved(vera.client);
		for (const doc of ['params', 'code'] as const) {
			const room = `${ws}/${doc}` as RoomName;
			const loaded = await server.storage.loadDoc(room);
			const y = new Y.Doc();
			if (loaded.snapshot) Y.applyUpdate(y, loaded.snapshot);
			for (const u of loaded.updates) Y.applyUpdate(y, u.update);
			await server.storage.compact(room, Y.encodeStateAsUpdate(y), loaded.lastSeq);
		}

		const past = await veraClient.get<{
			hyperparameters: Record<string, unknown>;
			files: Record<string, string>;
		}>(`/api/workspaces/${ws}/history?at=${encodeURIComponent(moment)}`);
		expect(past.status).toBe(200);
		expect(past.body.hyperparameters).toMatchObject({ learning_rate: 0.05, batch_size: 16 });
		expect(Object.keys(past.body.files)).toEqual(['train.py']);
		expect(past.body.files['train.py']!.startsWith('# version one\n')).toBe(true);

		const state = async () =>
			(
				await owner.get<{ state: { hyperparameters: Record<string, unknown> } }>(
					`/api/workspaces/${ws}/state`
				)
			).body.state.hyperparameters;
		const before = await state();
		// Bad input: 4xx with a message, nothing changed.
		const early = await owner.post<{ error: { message: string } }>(
			`/api/workspaces/${ws}/restore`,
			{
				at: '2000-01-01T00:00:00Z',
				scope: 'hyperparameters'
			}
		);
		expect(early.status).toBe(400);
		expect(early.body.error.message).toMatch(/did not exist/);
		const ghost = await owner.post<{ error: { message: string } }>(
			`/api/workspaces/${ws}/restore`,
			{
				at: moment,
				scope: 'file',
				file: 'notes.py'
			}
		);
		expect(ghost.status).toBe(404);
		expect(ghost.body.error.message).toMatch(/no file "notes.py"/);
		const viewer = await veraClient.post<{ error: { message: string } }>(
			`/api/workspaces/${ws}/restore`,
			{
				at: moment,
				scope: 'hyperparameters'
			}
		);
		expect(viewer.status).toBe(403);
		expect(viewer.body.error.message).toMatch(/can browse history but not restore/);
		const notTime = await owner.get(`/api/workspaces/${ws}/history?at=yesterday`);
		expect(notTime.status).toBe(400);
		expect(await state()).toEqual(before);

		// Restore: a new change by the owner, in the feed; history before it is kept.
		const restored = await owner.post<{ changed: string[]; entry: Entry }>(
			`/api/workspaces/${ws}/restore`,
			{ at: moment, scope: 'hyperparameters' }
		);
		expect(restored.status).toBe(200);
		expect(restored.body.changed.sort()).toEqual(['batch_size', 'learning_rate']);
		expect(restored.body.entry.summary).toMatch(/^Alice restored the hyperparameters to /);
		expect(await state()).toMatchObject({ learning_rate: 0.05, batch_size: 16 });
		const file = await owner.post<{ changed: string[] }>(`/api/workspaces/${ws}/restore`, {
			at: moment,
			scope: 'files'
		});
		expect(file.body.changed.sort()).toEqual(['notes.py', 'train.py']);
		const nowState = await owner.get<{ files: Record<string, string> }>(
			`/api/workspaces/${ws}/history?at=${encodeURIComponent(new Date().toISOString())}`
		);
		expect(nowState.body.files).toEqual(past.body.files);
		await until(owner, ws, (e) => e.kind === 'restored', 'the restore in the feed');
	});
});

describe('history across processes', { timeout: 60_000 }, () => {
	it('[HIST3] an entry made on one process is listed on the other, once', async (ctx) => {
		if (!pgAvailable) return ctx.skip();
		const db = await freshDatabase();
		cleanups.push(() => db.drop());
		const { REDIS_URL } = await import('../helpers/services.ts');
		const a = await startTestServer({ databaseUrl: db.url, redisUrl: REDIS_URL });
		cleanups.push(() => a.close());
		const b = await startTestServer({ databaseUrl: db.url, redisUrl: REDIS_URL });
		cleanups.push(() => b.close());
		const team = await makeTeam(a, 'Alice');
		const ws = team.workspace;
		const onB = Object.assign(b.client(), { cookie: team.owner.cookie });
		// An edit stored by process A, listed through process B; both summarise, one entry.
		const params = await peer(a, team.owner, ws, 'params');
		hp(params.doc).set('epochs', 99);
		const entry = await until(onB, ws, (e) => e.kind === 'hyperparameter', 'the edit on B');
		expect(entry.summary).toBe('Alice set epochs 50 → 99');
		const onA = await activity(team.owner, ws, '?kind=hyperparameter');
		expect(onA.map((e) => e.id)).toEqual([entry.id]);
		// An explicit event on B, listed on A.
		const bob = await team.add('Bob', 'viewer');
		await onB.patch(`/api/workspaces/${ws}/members/${bob.id}`, { role: 'editor' });
		await until(team.owner, ws, (e) => e.kind === 'role_changed', 'the role change on A');
	});
});
