// The transcript (HIST8) through the real server, Markdown and JSON, on SQLite
// and on PostgreSQL: a chat line, a run and an activity entry, in time order.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTeam, startTestServer, type TestServer } from '../helpers/server.ts';
import { freshDatabase, servicesAvailable } from '../helpers/services.ts';
import { connectPeer, synced } from '../helpers/yjs.ts';
import { waitUntil } from '../helpers/wait.ts';

interface Item {
	at: string;
	type: string;
	user: { id: string; name: string } | null;
	text: string;
	kind?: string;
	run?: { id: string; params: Record<string, unknown>; code_at: string };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

let pgAvailable = false;
beforeAll(async () => {
	pgAvailable = await servicesAvailable('tests/history/transcript.test.ts');
});

describe.each(['SQLite', 'PostgreSQL'])('transcript on %s', { timeout: 60_000 }, (name) => {
	it('[HIST8] md and json hold the chat line, the run and the activity entry in time order; a bad span is a 400', async (ctx) => {
		if (name === 'PostgreSQL' && !pgAvailable) return ctx.skip();
		let databaseUrl: string | undefined;
		if (name === 'PostgreSQL') {
			const db = await freshDatabase();
			databaseUrl = db.url;
			cleanups.push(() => db.drop());
		}
		const dir = await mkdtemp(join(tmpdir(), 'ensemble-transcript-'));
		cleanups.push(() => rm(dir, { recursive: true, force: true }));
		const server: TestServer = await startTestServer({ dataDir: dir, databaseUrl });
		cleanups.push(() => server.close());
		const team = await makeTeam(server, 'Alice');
		const ws = team.workspace;

		const params = await connectPeer(server, team.owner, ws, 'params');
		cleanups.push(() => Promise.resolve(params.destroy()));
		await synced(params);
		params.doc.getMap('hyperparameters').set('learning_rate', 0.1);
		await waitUntil(async () => {
			const r = await team.owner.get<{ entries: Array<{ kind: string }> }>(
				`/api/workspaces/${ws}/activity`
			);
			return r.body.entries.some((e) => e.kind === 'hyperparameter');
		}, 'the activity entry');
		const chat = await team.owner.post(`/api/workspaces/${ws}/chat`, {
			text: 'trying a bigger learning rate'
		});
		expect(chat.status).toBe(201);
		const run = await team.owner.post<{ run: { id: string } }>(`/api/workspaces/${ws}/runs`, {
			runner: 'agent'
		});
		expect(run.status, JSON.stringify(run.body)).toBeLessThan(300);

		const json = await team.owner.get<{ items: Item[]; workspace: { id: string } }>(
			`/api/workspaces/${ws}/transcript?format=json`
		);
		expect(json.status).toBe(200);
		const items = json.body.items;
		const set = items.findIndex((i) => i.text === 'Alice set learning_rate 0.01 → 0.1');
		const said = items.findIndex(
			(i) => i.type === 'chat' && i.text === 'trying a bigger learning rate'
		);
		const ran = items.findIndex((i) => i.type === 'run' && i.run?.id === run.body.run.id);
		expect(
			[set, said, ran].every((i) => i >= 0),
			JSON.stringify(items)
		).toBe(true);
		expect(set).toBeLessThan(said);
		expect(said).toBeLessThan(ran);
		expect(items[said]!.user).toMatchObject({ id: team.ownerId, name: 'Alice' });
		expect(items[ran]!.run!.params).toMatchObject({ learning_rate: 0.1 });
		expect(items[ran]!.run!.code_at).toMatch(/\/history\?at=/);
		const times = items.map((i) => Date.parse(i.at));
		expect(times).toEqual([...times].sort((a, b) => a - b));

		const md = await fetch(`${server.url}/api/workspaces/${ws}/transcript?format=md`, {
			headers: { cookie: team.owner.cookie ?? '' }
		});
		expect(md.status).toBe(200);
		expect(md.headers.get('content-type')).toMatch(/text\/markdown/);
		const text = await md.text();
		expect(text).toMatch(/^# .*: session transcript/);
		expect(text).toContain('Alice: trying a bigger learning rate');
		expect(text).toContain('_Alice set learning_rate 0.01 → 0.1_');
		expect(text).toMatch(/Alice started run \*\*.+\*\*/);
		expect(text.indexOf('learning_rate 0.01 → 0.1')).toBeLessThan(
			text.indexOf('trying a bigger learning rate')
		);

		const bad = await team.owner.get<{ message?: string }>(
			`/api/workspaces/${ws}/transcript?from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z`
		);
		expect(bad.status).toBe(400);
		expect(JSON.stringify(bad.body)).toContain('earlier time first');
	});
});
