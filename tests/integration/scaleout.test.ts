// Several server processes (node server/main.ts) on one PostgreSQL database and
// one Redis, as operators run them behind a proxy.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { ackClient } from '../helpers/ackClient.ts';
import { ApiClient } from '../helpers/http.ts';
import { scratchList } from '../helpers/schemaRoots.ts';
import { spawnServer, stopChild, type ChildServer } from '../helpers/process.ts';
import { freshDatabase, REDIS_URL, servicesAvailable } from '../helpers/services.ts';
import { connectPeer, docReaches, nextClose, synced, type Peer } from '../helpers/yjs.ts';

let available = false;
beforeAll(async () => {
	available = await servicesAvailable('tests/integration/scaleout.test.ts');
});

const cleanups: Array<() => Promise<void>> = [];
const peers: Peer[] = [];
afterEach(async () => {
	for (const p of peers.splice(0)) p.destroy();
	for (const c of cleanups.splice(0).reverse()) await c();
});

async function cluster(n: number): Promise<ChildServer[]> {
	const db = await freshDatabase();
	cleanups.push(() => db.drop());
	databaseUrl = db.url;
	// Started together: migrations must be safe when several processes start at once.
	return Promise.all(Array.from({ length: n }, () => processOn(db.url)));
}

let databaseUrl = '';

async function processOn(url: string): Promise<ChildServer> {
	// DATA_DIR is unused with DATABASE_URL but must not be shared with other tests.
	const dir = await mkdtemp(join(tmpdir(), 'ensemble-scale-'));
	cleanups.push(() => rm(dir, { recursive: true, force: true }));
	const server = await spawnServer(dir, { DATABASE_URL: url, REDIS_URL, LOG_LEVEL: 'info' });
	cleanups.push(() => stopChild(server));
	return server;
}

async function peer(
	server: ChildServer,
	client: ApiClient,
	workspace: string,
	doc: string
): Promise<Peer> {
	const p = await connectPeer(server, client, workspace, doc);
	peers.push(p);
	await synced(p);
	return p;
}

const hp = (doc: Y.Doc) => doc.getMap<unknown>('hyperparameters');

describe('several processes on PostgreSQL and Redis', { timeout: 180_000 }, () => {
	it('[SCALE1] sessions and tokens work on every process; clients on different processes converge; a removal closes connections on every process', async ({
		skip
	}) => {
		if (!available) skip();
		const [a, b] = await cluster(2);
		if (!a || !b) throw new Error('cluster did not start');
		const owner = new ApiClient(a.url);
		await owner.signup('Olivia', 'olivia@example.com');
		const workspace = (await owner.createWorkspace()).id;
		const onB = new ApiClient(b.url);
		onB.cookie = owner.cookie;
		expect((await onB.get('/api/me')).status).toBe(200);

		const editor = new ApiClient(b.url);
		const ed = await editor.signup('Ed', 'ed@example.com');
		const invite = await owner.invite(workspace, 'ed@example.com', 'editor');
		expect((await editor.join(workspace, invite)).status).toBe(200);

		// A token issued by A used on B.
		const pa = await peer(a, owner, workspace, 'params');
		const editorOnA = new ApiClient(a.url);
		editorOnA.cookie = editor.cookie;
		const tokenFromA = await editorOnA.wsToken(workspace);
		const pb = await connectPeer(b, editor, workspace, 'params', { token: tokenFromA });
		peers.push(pb);
		await synced(pb);
		hp(pa.doc).set('learning_rate', 0.07);
		hp(pb.doc).set('batch_size', 128);
		await docReaches(pb.doc, (d) => hp(d).get('learning_rate') === 0.07, 'B sees A');
		await docReaches(pa.doc, (d) => hp(d).get('batch_size') === 128, 'A sees B');

		const ca = await peer(a, owner, workspace, 'code');
		const cb = await peer(b, editor, workspace, 'code');
		ca.doc.getMap<Y.Text>('files').get('train.py')?.insert(0, '# from A\n');
		await docReaches(
			cb.doc,
			(d) => d.getMap<Y.Text>('files').get('train.py')?.toJSON().startsWith('# from A') === true,
			'code across processes'
		);

		const closed = nextClose(pb, 1000);
		const started = Date.now();
		expect((await owner.delete(`/api/workspaces/${workspace}/members/${ed.id}`)).status).toBe(204);
		expect(await closed).toBe(4403);
		expect(Date.now() - started).toBeLessThan(1000);
	});

	it('[SCALE2] a process killed with SIGKILL under steady editing loses nothing anyone received or was told was saved; its clients converge through another process', async ({
		skip
	}) => {
		if (!available) skip();
		const [a, b, c] = await cluster(3);
		if (!a || !b || !c) throw new Error('cluster did not start');
		const owner = new ApiClient(a.url);
		await owner.signup('Olivia', 'olivia@example.com');
		const workspace = (await owner.createWorkspace()).id;
		const token = await owner.wsToken(workspace);
		const list = (doc: Y.Doc) => scratchList<string>(doc, 'params');

		const reader = await peer(a, owner, workspace, 'params');
		const doomedDoc = new Y.Doc();
		const onDoomed = ackClient(`${b.wsUrl}/ws/${workspace}/params?ack=1&token=${token}`, doomedDoc);
		await onDoomed.synced;
		const steadyDoc = new Y.Doc();
		const steady = ackClient(`${c.wsUrl}/ws/${workspace}/params?ack=1&token=${token}`, steadyDoc);
		await steady.synced;

		// Steady editing on B and on C, every 5 ms, until B is killed.
		let n = 0;
		const timer = setInterval(() => {
			n += 1;
			list(doomedDoc).push([`B${n}`]);
			list(steadyDoc).push([`C${n}`]);
		}, 5);
		try {
			await new Promise<void>((resolve) => {
				const off = onDoomed.onSaved((clock) => {
					if (clock < 40) return;
					off();
					resolve();
				});
			});
			b.child.kill('SIGKILL');
			expect(await b.exited).toBe('SIGKILL');
		} finally {
			clearInterval(timer);
		}
		const acknowledged = onDoomed.savedClock();
		onDoomed.close();

		// Everything relayed so far has reached the reader once C's last edit has.
		list(steadyDoc).push(['C-end']);
		await docReaches(
			reader.doc,
			(d) => list(d).toArray().includes('C-end'),
			"the reader has C's last edit"
		);
		const received = new Set(list(reader.doc).toArray());

		// What the surviving processes serve to someone new.
		const fresh = await peer(c, owner, workspace, 'params');
		const kept = new Set(list(fresh.doc).toArray());
		const lost = [...received].filter((v) => !kept.has(v));
		expect(lost, 'received by someone, then lost').toEqual([]);
		for (let i = 1; i <= acknowledged; i++)
			expect(kept.has(`B${i}`), `B${i} was acknowledged as saved`).toBe(true);

		// B's client reconnects to A and everyone converges on one history.
		const back = ackClient(`${a.wsUrl}/ws/${workspace}/params?ack=1&token=${token}`, doomedDoc);
		await back.synced;
		await back.saved();
		const all = list(doomedDoc).toArray();
		await docReaches(reader.doc, (d) => list(d).length === all.length, 'the reader converges');
		await docReaches(fresh.doc, (d) => list(d).length === all.length, 'the fresh client converges');
		expect(list(reader.doc).toArray()).toEqual(list(doomedDoc).toArray());
		expect(list(fresh.doc).toArray()).toEqual(list(doomedDoc).toArray());
		expect(all.filter((v) => v.startsWith('B')).length).toBe(n);
		back.close();
		steady.close();
	});

	it('[SCALE3] a rolling restart of every process under steady editing loses nothing', async ({
		skip
	}) => {
		if (!available) skip();
		const [first, second] = await cluster(2);
		if (!first || !second) throw new Error('cluster did not start');
		const owner = new ApiClient(first.url);
		await owner.signup('Olivia', 'olivia@example.com');
		const workspace = (await owner.createWorkspace()).id;
		const token = await owner.wsToken(workspace);
		const list = (doc: Y.Doc) => scratchList<string>(doc, 'code');
		const url = (server: ChildServer) =>
			`${server.wsUrl}/ws/${workspace}/code?ack=1&token=${token}`;

		// Two writers, one on each process; each moves to the other process when its own restarts.
		const docs = [new Y.Doc(), new Y.Doc()] as const;
		const clients = [ackClient(url(first), docs[0]), ackClient(url(second), docs[1])];
		await Promise.all(clients.map((c) => c.synced));
		let n = 0;
		const timer = setInterval(() => {
			n += 1;
			list(docs[0]).push([`x${n}`]);
			list(docs[1]).push([`y${n}`]);
		}, 5);
		const at = (k: number) => {
			const c = clients[k];
			if (!c) throw new Error(`no client ${k}`);
			return c;
		};
		// Where each writer is connected; when its process restarts it moves to another one.
		const where = [first, second];
		try {
			let live = [first, second];
			for (const old of [first, second]) {
				const other = live.find((p) => p !== old);
				if (!other) throw new Error('no other process');
				const moving = [0, 1].filter((k) => where[k] === old);
				await Promise.all(moving.map((k) => at(k).saved(30_000)));
				const closed = moving.map(
					(k) => new Promise<number>((resolve) => at(k).ws.once('close', (code) => resolve(code)))
				);
				old.child.kill('SIGTERM');
				expect(await Promise.all(closed)).toEqual(moving.map(() => 1012));
				expect(await old.exited).toBe(0);
				for (const k of moving) {
					at(k).close();
					const doc = docs[k as 0 | 1];
					clients[k] = ackClient(url(other), doc);
					where[k] = other;
				}
				await Promise.all(moving.map((k) => at(k).synced));
				live = [other, await processOn(databaseUrl)];
			}
		} finally {
			clearInterval(timer);
		}
		await Promise.all(clients.map((c) => c.saved(30_000)));
		const last = where[0];
		if (!last) throw new Error('no process');
		const fresh = await connectPeer(last, owner, workspace, 'code', { token });
		peers.push(fresh);
		await synced(fresh);
		const written = [...list(docs[0]).toArray(), ...list(docs[1]).toArray()];
		await docReaches(
			fresh.doc,
			(d) => list(d).length === new Set(written).size,
			'every edit at a fresh client',
			10_000
		);
		expect(new Set(list(fresh.doc).toArray())).toEqual(new Set(written));
		expect(list(docs[0]).toArray()).toEqual(list(docs[1]).toArray());
		expect(
			list(fresh.doc)
				.toArray()
				.filter((v) => v.startsWith('x'))
		).toHaveLength(n);
		for (const c of clients) c.close();
	});
});
