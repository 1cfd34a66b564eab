// The seed's JSON protocol on several processes (issue 11, item 4): a role
// change or removal made through one process applies to JSON connections on
// every other within 1 s, and their writes are refused from then on (COMPAT14).

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ApiClient } from '../helpers/http.ts';
import { Cluster } from '../helpers/cluster.ts';
import { servicesAvailable } from '../helpers/services.ts';
import { waitUntil } from '../helpers/wait.ts';
import { connectPeer, synced, type Peer } from '../helpers/yjs.ts';
import { JsonClient } from '../compat/jsonClient.ts';

let available = false;
beforeAll(async () => {
	available = await servicesAvailable('tests/integration/compatRoles.test.ts');
});

let cluster: Cluster | null = null;
const peers: Peer[] = [];
const jsons: JsonClient[] = [];
afterEach(async () => {
	for (const p of peers.splice(0)) p.destroy();
	for (const j of jsons.splice(0)) await j.close();
	await cluster?.close();
	cluster = null;
});

const hp = (doc: Y.Doc) => doc.getMap<unknown>('hyperparameters');

describe('the JSON protocol on several processes', { timeout: 90_000 }, () => {
	it('[COMPAT14] a demotion or removal made on another process reaches JSON connections within 1 s, and every write path checks the current role', async ({
		skip
	}) => {
		if (!available) skip();
		cluster = await Cluster.start(2);
		const a = cluster.member(0);
		const b = cluster.member(1);
		const owner = new ApiClient(a.url);
		await owner.signup('Olivia', 'olivia@example.com');
		const workspace = (await owner.createWorkspace()).id;
		const ed = new ApiClient(b.url);
		const edUser = await ed.signup('Ed', 'ed@example.com');
		expect(
			(await ed.join(workspace, await owner.invite(workspace, 'ed@example.com', 'editor'))).status
		).toBe(200);

		// Ed on B over JSON; the owner reads params on A over Yjs.
		const json = await JsonClient.connect(
			`${b.wsUrl}/ws/workspace/${workspace}?token=${await ed.wsToken(workspace)}`
		);
		jsons.push(json);
		const reader = await connectPeer(a, owner, workspace, 'params');
		peers.push(reader);
		await synced(reader);
		// Ed's Yjs presence on B, as the owner watching on B sees it, shows when B
		// has applied a role change (the relay re-stamps it).
		const edYjs = await connectPeer(b, ed, workspace, 'live');
		peers.push(edYjs);
		await synced(edYjs);
		edYjs.provider.awareness.setLocalStateField('current_view', 'dashboard');
		const watcher = await connectPeer(b, owner, workspace, 'live');
		peers.push(watcher);
		await synced(watcher);
		const roleOnB = () =>
			(
				watcher.provider.awareness.getStates().get(edYjs.doc.clientID)?.user as
					{ role?: string } | undefined
			)?.role;
		await waitUntil(() => roleOnB() === 'editor', "Ed's stamped presence");

		// As an editor, Ed's writes from B are stored and reach A.
		json.send({ type: 'state_update', path: 'hyperparameters.learning_rate', value: 0.5 });
		await waitUntil(() => hp(reader.doc).get('learning_rate') === 0.5, 'the editor write on A');

		// Demoted on A: within 1 s B refuses Ed's JSON writes.
		const started = Date.now();
		const patched = await owner.patch(`/api/workspaces/${workspace}/members/${edUser.id}`, {
			role: 'viewer'
		});
		expect(patched.status).toBe(200);
		await waitUntil(() => roleOnB() === 'viewer', 'the demotion applied on B', 1000);
		const from = json.mark();
		json.send({ type: 'state_update', path: 'hyperparameters.learning_rate', value: 0.9 });
		json.send({
			type: 'text_op',
			file: 'train.py',
			revision: json.welcome.files['train.py']?.revision ?? 0,
			ops: [{ type: 'insert', position: 0, data: '# viewer\n' }]
		});
		const errors = () => json.since(from, 'error').filter((m) => m.code === 'forbidden');
		await waitUntil(() => errors().length === 2, 'both writes refused', 1000);
		expect(Date.now() - started).toBeLessThan(2000);
		await json.barrier();
		// Nothing of them was stored: a fresh reader on A sees the editor's value only.
		const fresh = await connectPeer(a, owner, workspace, 'params');
		peers.push(fresh);
		await synced(fresh);
		expect(hp(fresh.doc).get('learning_rate')).toBe(0.5);
		expect(hp(reader.doc).get('learning_rate')).toBe(0.5);
		const code = await connectPeer(a, owner, workspace, 'code');
		peers.push(code);
		await synced(code);
		expect(code.doc.getMap<Y.Text>('files').get('train.py')?.toJSON()).not.toContain('# viewer');

		// Promoted again, then removed on A: the JSON connection on B closes with 4403 within 1 s.
		expect(
			(await owner.patch(`/api/workspaces/${workspace}/members/${edUser.id}`, { role: 'editor' }))
				.status
		).toBe(200);
		await waitUntil(() => roleOnB() === 'editor', 'the promotion applied on B', 1000);
		json.send({ type: 'state_update', path: 'hyperparameters.learning_rate', value: 0.25 });
		await waitUntil(() => hp(reader.doc).get('learning_rate') === 0.25, 'writes allowed again');
		const removedAt = Date.now();
		expect((await owner.delete(`/api/workspaces/${workspace}/members/${edUser.id}`)).status).toBe(
			204
		);
		expect(await json.closed).toBe(4403);
		expect(Date.now() - removedAt).toBeLessThan(1000);
	});
});
