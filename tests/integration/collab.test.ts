import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import type { RoomName } from '../../server/protocol/docs.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { connectPeer, docReaches, nextClose, synced, type Peer } from '../helpers/yjs.ts';
import { withDeadline } from '../helpers/wait.ts';

let s: TestServer;
let team: Team;
let peers: Peer[] = [];
beforeEach(async () => {
	s = await startTestServer();
	team = await makeTeam(s);
});
afterEach(async () => {
	for (const p of peers) p.destroy();
	peers = [];
	await s.close();
});

async function peer(client: Team['owner'], doc: string): Promise<Peer> {
	const p = await connectPeer(s, client, team.workspace, doc);
	peers.push(p);
	await synced(p);
	return p;
}

/** The document as storage has it (snapshot plus log), in a fresh Y.Doc. */
async function stored(doc: string): Promise<Y.Doc> {
	const loaded = await s.storage.loadDoc(`${team.workspace}/${doc}` as RoomName);
	const ydoc = new Y.Doc();
	if (loaded.snapshot) Y.applyUpdate(ydoc, loaded.snapshot);
	for (const u of loaded.updates) Y.applyUpdate(ydoc, u.update);
	return ydoc;
}

/** Resolves when `awareness` holds a state for `clientId` that satisfies `check`. */
function awarenessReaches(
	awareness: Awareness,
	clientId: number,
	check: (state: Record<string, unknown>) => boolean,
	what: string
) {
	const ok = () => {
		const state = awareness.getStates().get(clientId);
		return state !== undefined && check(state);
	};
	if (ok()) return Promise.resolve();
	return withDeadline(
		new Promise<void>((resolve) => {
			const onChange = () => {
				if (!ok()) return;
				awareness.off('change', onChange);
				resolve();
			};
			awareness.on('change', onChange);
		}),
		what
	);
}

const hp = (doc: Y.Doc) => doc.getMap<unknown>('hyperparameters');

/** `writer` sets epochs and waits until every reader has it. */
async function barrier(writer: Peer, readers: Peer[], epochs: number): Promise<void> {
	hp(writer.doc).set('epochs', epochs);
	await Promise.all(
		readers.map((r) => docReaches(r.doc, (d) => hp(d).get('epochs') === epochs, 'the barrier edit'))
	);
}
const files = (doc: Y.Doc) => doc.getMap<Y.Text>('files');

describe('collaboration through the real server', () => {
	it('[RELAY1] two editors converge on params and code through the real server', async () => {
		const editor = await team.add('Ed', 'editor');
		const a = await peer(team.owner, 'params');
		const b = await peer(editor.client, 'params');
		expect(hp(b.doc).get('learning_rate')).toBe(0.01);
		hp(a.doc).set('learning_rate', 0.05);
		hp(b.doc).set('batch_size', 64);
		await docReaches(a.doc, (d) => hp(d).get('batch_size') === 64, 'a sees batch_size');
		await docReaches(b.doc, (d) => hp(d).get('learning_rate') === 0.05, 'b sees learning_rate');
		expect(hp(a.doc).toJSON()).toEqual(hp(b.doc).toJSON());

		const ca = await peer(team.owner, 'code');
		const cb = await peer(editor.client, 'code');
		const textA = files(ca.doc).get('train.py');
		const textB = files(cb.doc).get('train.py');
		if (!textA || !textB) throw new Error('train.py missing');
		textA.insert(0, '# owner\n');
		textB.insert(textB.length, '# editor\n');
		await docReaches(
			ca.doc,
			(d) => files(d).get('train.py')?.toJSON().includes('# editor') === true,
			'a sees edit'
		);
		await docReaches(
			cb.doc,
			(d) => files(d).get('train.py')?.toJSON().includes('# owner') === true,
			'b sees edit'
		);
		expect(textA.toJSON()).toBe(textB.toJSON());
		expect((await stored('code')).getMap<Y.Text>('files').get('train.py')?.toJSON()).toBe(
			textA.toJSON()
		);
	});

	it("[ROLE3] a viewer's write reaches nobody and is not stored; the viewer still syncs and has presence", async () => {
		const viewer = await team.add('Vi', 'viewer');
		const owner = await peer(team.owner, 'params');
		const observer = await peer(team.owner, 'params');
		const v = await peer(viewer.client, 'params');
		hp(v.doc).set('learning_rate', 999);
		v.provider.awareness.setLocalStateField('current_view', 'dashboard');
		await awarenessReaches(
			observer.provider.awareness,
			v.doc.clientID,
			(st) =>
				st.current_view === 'dashboard' &&
				(st.user as { role?: string } | undefined)?.role === 'viewer',
			"viewer's presence"
		);
		// A barrier: the owner's edit reaches the server after the viewer's write did, and
		// updates of a room are stored and relayed in order, so by the time the observer
		// (and the viewer) have the owner's edit, the viewer's write would have arrived too.
		await barrier(owner, [observer, v], 7);
		expect(hp(owner.doc).get('learning_rate')).toBe(0.01);
		expect(hp(observer.doc).get('learning_rate')).toBe(0.01);
		expect(hp(await stored('params')).get('learning_rate')).toBe(0.01);
	});

	it("[PRES1] an awareness state claiming another person comes out stamped with the sender's identity", async () => {
		const editor = await team.add('Ed', 'editor');
		const owner = await peer(team.owner, 'params');
		const e = await peer(editor.client, 'params');
		e.provider.awareness.setLocalState({
			user: { id: team.ownerId, name: 'Olivia', color: '#000000', role: 'owner' },
			current_view: 'code_editor'
		});
		await awarenessReaches(
			owner.provider.awareness,
			e.doc.clientID,
			(st) => st.current_view === 'code_editor',
			'the forged state'
		);
		const seen = owner.provider.awareness.getStates().get(e.doc.clientID);
		expect(seen?.user).toMatchObject({ id: editor.id, name: 'Ed', role: 'editor' });
		expect((seen?.user as { color: string }).color).not.toBe('#000000');
		const users = await team.owner.get<{
			users: Array<{ id: string; name: string; current_view: string }>;
		}>(`/api/workspaces/${team.workspace}/users`);
		expect(users.body.users).toContainEqual(
			expect.objectContaining({ id: editor.id, name: 'Ed', current_view: 'code_editor' })
		);
	});

	it('[ROLE4] a removed member is disconnected with 4403 within 1 s', async () => {
		const editor = await team.add('Ed', 'editor');
		const e = await peer(editor.client, 'params');
		const closed = nextClose(e, 1000);
		const started = Date.now();
		expect(
			(await team.owner.delete(`/api/workspaces/${team.workspace}/members/${editor.id}`)).status
		).toBe(204);
		expect(await closed).toBe(4403);
		expect(Date.now() - started).toBeLessThan(1000);
	});

	it('[API6] deleting a workspace closes its connections with 4404', async () => {
		const editor = await team.add('Ed', 'editor');
		const e = await peer(editor.client, 'code');
		const closed = nextClose(e);
		expect((await team.owner.delete(`/api/workspaces/${team.workspace}`)).status).toBe(204);
		expect(await closed).toBe(4404);
	});

	it('[ROLE4] a demoted editor is read-only within 1 s', async () => {
		const editor = await team.add('Ed', 'editor');
		const owner = await peer(team.owner, 'params');
		const observer = await peer(team.owner, 'params');
		const e = await peer(editor.client, 'params');
		hp(e.doc).set('learning_rate', 0.2);
		await docReaches(
			observer.doc,
			(d) => hp(d).get('learning_rate') === 0.2,
			'editor write before demotion'
		);
		const started = Date.now();
		const patched = await team.owner.patch(
			`/api/workspaces/${team.workspace}/members/${editor.id}`,
			{
				role: 'viewer'
			}
		);
		expect(patched.status).toBe(200);
		hp(e.doc).set('learning_rate', 0.3);
		e.provider.awareness.setLocalStateField('current_view', 'data_table');
		await awarenessReaches(
			observer.provider.awareness,
			e.doc.clientID,
			(st) => st.current_view === 'data_table' && (st.user as { role?: string }).role === 'viewer',
			'presence of the demoted editor'
		);
		await barrier(owner, [observer, e], 9);
		expect(Date.now() - started).toBeLessThan(1000);
		expect(hp(owner.doc).get('learning_rate')).toBe(0.2);
		expect(hp(observer.doc).get('learning_rate')).toBe(0.2);
		expect(hp(await stored('params')).get('learning_rate')).toBe(0.2);
		expect(e.provider.wsconnected).toBe(true);
	});
});
