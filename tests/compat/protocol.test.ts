// The seed's JSON protocol against the real server (COMPAT1…COMPAT7, COMPAT10, COMPAT11).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { startTestServer, makeTeam, type Team, type TestServer } from '../helpers/server.ts';
import { connectPeer, docReaches, synced, type Peer } from '../helpers/yjs.ts';
import type { ApiClient } from '../helpers/http.ts';
import { withDeadline } from '../helpers/wait.ts';
import type { RoomName } from '../../server/protocol/docs.ts';
import type { WorkspaceId } from '../../server/protocol/ids.ts';
import { JsonClient, textClient, type ServerMessage, type TextOp } from './jsonClient.ts';

let server: TestServer;
let team: Team;
const open: { close(): unknown }[] = [];

beforeEach(async () => {
	server = await startTestServer({ memory: true });
	team = await makeTeam(server);
});

afterEach(async () => {
	for (const o of open.splice(0).reverse()) await o.close();
	await server.close();
});

async function json(client: ApiClient, query = ''): Promise<JsonClient> {
	const token = await client.wsToken(team.workspace);
	const c = await JsonClient.connect(
		`${server.wsUrl}/ws/workspace/${team.workspace}?token=${token}${query}`
	);
	open.push(c);
	return c;
}

async function peer(client: ApiClient, doc: string): Promise<Peer> {
	const p = await connectPeer(server, client, team.workspace, doc);
	open.push({ close: () => p.destroy() });
	await synced(p);
	return p;
}

describe('identity and roles', () => {
	it('[COMPAT1] identity comes from authentication; query parameters cannot claim another', async () => {
		const bob = await team.add('Bob', 'editor');
		const c = await json(bob.client, `&user_id=${team.ownerId}&user_name=Mallory&user_role=owner`);
		expect(c.welcome.you.id).toBe(bob.id);
		expect(c.welcome.you.name).toBe('Bob');
		// asking for owner does not raise an editor
		expect(c.welcome.you.role).toBe('editor');
	});

	it('[COMPAT1] user_role lowers the role: an owner asking for viewer is refused writes', async () => {
		const c = await json(team.owner, '&user_role=viewer');
		expect(c.welcome.you.role).toBe('viewer');
		const from = c.mark();
		c.send({ type: 'state_update', path: 'hyperparameters.learning_rate', value: 0.5 });
		const err = await c.waitFor((m) => m.type === 'error', 'error', from);
		expect(err.code).toBe('forbidden');
	});
});

describe('role changes', () => {
	it('[COMPAT13] a demoted editor is read-only at once; a removed one is closed with 4403', async () => {
		const bob = await team.add('Bob', 'editor');
		const c = await json(bob.client);
		const patched = await team.owner.patch(`/api/workspaces/${team.workspace}/members/${bob.id}`, {
			role: 'viewer'
		});
		expect(patched.status).toBe(200);
		const from = c.mark();
		c.send({ type: 'state_update', path: 'hyperparameters.epochs', value: 3 });
		const err = await c.waitFor((m) => m.type === 'error', 'refusal after demotion', from);
		expect(err.code).toBe('forbidden');
		const removed = await team.owner.delete(`/api/workspaces/${team.workspace}/members/${bob.id}`);
		expect(removed.status).toBeLessThan(300);
		expect(await withDeadline(c.closed, 'close after removal', 1000)).toBe(4403);
	});

	it('[COMPAT13] deleting the workspace closes its JSON connections with 4404', async () => {
		const c = await json(team.owner);
		const deleted = await team.owner.delete(`/api/workspaces/${team.workspace}`);
		expect(deleted.status).toBeLessThan(300);
		expect(await withDeadline(c.closed, 'close after delete', 1000)).toBe(4404);
	});
});

describe('state', () => {
	it('[COMPAT2] workspace_state has the state and the users present, including Yjs users', async () => {
		const bob = await team.add('Bob', 'editor');
		const first = await json(team.owner);
		let from = first.mark();
		const params = await peer(team.owner, 'params');
		params.doc.transact(() => {
			params.doc.getMap('hyperparameters').set('learning_rate', 0.03);
			params.doc.getMap('config').set('selected_algorithm', 'mlp');
		});
		await first.waitFor(
			(m) => m.path === 'selected_algorithm',
			'the edit is stored and relayed',
			from
		);
		from = first.mark();
		const live = await peer(bob.client, 'live');
		live.provider.awareness.setLocalStateField('current_view', 'code_editor');
		await first.waitFor((m) => m.type === 'user_joined', 'Bob present', from);
		await first.barrier();

		const c = await json(team.owner);
		const { state, users } = c.welcome;
		expect(state.hyperparameters.learning_rate).toBe(0.03);
		expect(state.hyperparameters.batch_size).toBe(16);
		expect(state.selected_algorithm).toBe('mlp');
		expect(state.training_status).toBe('idle');
		expect(users.map((u) => u.id).sort()).toEqual([team.ownerId, bob.id].sort());
		expect(users.find((u) => u.id === bob.id)).toMatchObject({
			name: 'Bob',
			current_view: 'code_editor'
		});
	});

	it('[COMPAT4] a state_update is written to params and reaches every JSON client with old_value', async () => {
		const bob = await team.add('Bob', 'editor');
		const params = await peer(team.owner, 'params');
		const a = await json(team.owner);
		const b = await json(bob.client);
		const fromA = a.mark();
		const fromB = b.mark();
		const old = a.welcome.state.hyperparameters.learning_rate ?? null;
		b.send({ type: 'state_update', path: 'hyperparameters.learning_rate', value: 0.5 });
		const seenByA = await a.waitFor((m) => m.type === 'state_update', 'state_update at A', fromA);
		const seenByB = await b.waitFor((m) => m.type === 'state_update', 'state_update at B', fromB);
		for (const m of [seenByA, seenByB]) {
			expect(m).toMatchObject({
				path: 'hyperparameters.learning_rate',
				value: 0.5,
				old_value: old,
				user_id: bob.id
			});
			expect(new Date(m.timestamp as string).getTime()).toBeGreaterThan(0);
		}
		await docReaches(
			params.doc,
			(d) => d.getMap('hyperparameters').get('learning_rate') === 0.5,
			'params has the new learning rate'
		);
		b.send({ type: 'state_update', path: 'selected_algorithm', value: 'cnn' });
		await docReaches(
			params.doc,
			(d) => d.getMap('config').get('selected_algorithm') === 'cnn',
			'config has the algorithm'
		);
	});

	it('[COMPAT5] a Yjs client changing params reaches JSON clients as state_update with its user', async () => {
		const bob = await team.add('Bob', 'editor');
		const params = await peer(bob.client, 'params');
		const a = await json(team.owner);
		const from = a.mark();
		params.doc.getMap('hyperparameters').set('epochs', 77);
		const m = await a.waitFor(
			(x) => x.type === 'state_update' && x.path === 'hyperparameters.epochs',
			'state_update from Yjs',
			from
		);
		expect(m).toMatchObject({ value: 77, user_id: bob.id });
		// the server's own writes (training) too
		const from2 = a.mark();
		await server.relay.write(
			{ workspace: team.workspace as WorkspaceId, doc: 'live' },
			null,
			(doc) => doc.getMap('training').set('status', 'running')
		);
		const t = await a.waitFor((x) => x.path === 'training_status', 'training status', from2);
		expect(t).toMatchObject({ value: 'running', old_value: 'idle', user_id: null });
	});

	it('[COMPAT6] a viewer’s state_update and text_op are refused and change nothing', async () => {
		const vera = await team.add('Vera', 'viewer');
		const params = await peer(team.owner, 'params');
		const code = await peer(team.owner, 'code');
		const owner = await json(team.owner);
		const viewer = await json(vera.client);
		const fromOwner = owner.mark();
		const from = viewer.mark();
		viewer.send({ type: 'state_update', path: 'hyperparameters.learning_rate', value: 9 });
		viewer.send({
			type: 'text_op',
			file: 'viewer.py',
			revision: 0,
			ops: [{ type: 'insert', position: 0, data: 'x' }]
		});
		const errors: ServerMessage[] = [];
		await viewer.waitFor(
			(m) => {
				if (m.type === 'error') errors.push(m);
				return errors.length >= 2;
			},
			'two errors',
			from
		);
		expect(errors.map((e) => e.code)).toEqual(['forbidden', 'forbidden']);
		await owner.barrier();
		await viewer.barrier();
		expect(owner.since(fromOwner, 'state_update')).toEqual([]);
		expect(owner.since(fromOwner, 'text_op')).toEqual([]);
		expect(params.doc.getMap('hyperparameters').get('learning_rate')).not.toBe(9);
		expect(code.doc.getMap('files').has('viewer.py')).toBe(false);
		// a viewer keeps presence
		const fromOwner2 = owner.mark();
		viewer.send({ type: 'presence_update', updates: { current_view: 'data_table' } });
		const p = await owner.waitFor(
			(m) => m.type === 'presence_update',
			'viewer presence',
			fromOwner2
		);
		expect(p).toMatchObject({ user_id: vera.id, updates: { current_view: 'data_table' } });
	});
});

describe('presence', () => {
	it('[COMPAT3] JSON and Yjs participants see each other arrive and leave', async () => {
		const bob = await team.add('Bob', 'editor');
		const cara = await team.add('Cara', 'editor');
		const a = await json(team.owner);
		let from = a.mark();
		const b = await json(bob.client);
		const joined = await a.waitFor((m) => m.type === 'user_joined', 'Bob joined', from);
		expect(joined).toMatchObject({ user: { id: bob.id, name: 'Bob', role: 'editor' } });
		expect(b.welcome.users.map((u) => u.id).sort()).toEqual([team.ownerId, bob.id].sort());

		// a Yjs client on live appears to JSON clients
		from = a.mark();
		const live = await peer(cara.client, 'live');
		live.provider.awareness.setLocalState({ current_view: 'dashboard' });
		const yjsJoined = await a.waitFor((m) => m.type === 'user_joined', 'Cara joined', from);
		expect(yjsJoined).toMatchObject({ user: { id: cara.id, name: 'Cara' } });
		from = a.mark();
		live.provider.awareness.setLocalStateField('current_view', 'code_editor');
		const viewed = await a.waitFor((m) => m.type === 'presence_update', 'Cara moved', from);
		expect(viewed).toMatchObject({ user_id: cara.id, updates: { current_view: 'code_editor' } });

		// and JSON clients appear in Yjs awareness, stamped with their identity
		const seen = () =>
			[...live.provider.awareness.getStates().values()].some(
				(s) => (s.user as { id?: string } | undefined)?.id === bob.id
			);
		await waitForAwareness(live, seen, 'Bob in awareness');

		from = a.mark();
		live.destroy();
		const left = await a.waitFor((m) => m.type === 'user_left', 'Cara left', from, 10_000);
		expect(left).toMatchObject({ user: { id: cara.id } });
		// a second connection of someone present is not a new arrival, and leaving
		// with one of two is not leaving
		from = a.mark();
		const b2 = await json(bob.client);
		await b2.close();
		await a.barrier();
		expect(a.since(from, 'user_joined')).toEqual([]);
		expect(a.since(from, 'user_left')).toEqual([]);
		from = a.mark();
		await b.close();
		const bLeft = await a.waitFor((m) => m.type === 'user_left', 'Bob left', from);
		expect(bLeft).toMatchObject({ user: { id: bob.id, name: 'Bob' } });
	});

	it('[COMPAT7] presence_update, cursor_position and ping behave as in the seed', async () => {
		const bob = await team.add('Bob', 'editor');
		const a = await json(team.owner);
		const b = await json(bob.client);
		let fromA = a.mark();
		const fromB = b.mark();
		b.send({
			type: 'presence_update',
			updates: { current_view: 'code_editor', cursor_position: { line: 3 } }
		});
		for (const c of [a, b]) {
			const m = await c.waitFor(
				(x) => x.type === 'presence_update',
				'presence',
				c === a ? fromA : fromB
			);
			expect(m).toMatchObject({
				user_id: bob.id,
				updates: { current_view: 'code_editor', cursor_position: { line: 3 } }
			});
		}
		// a newcomer sees where Bob is
		const c = await json(team.owner);
		expect(c.welcome.users.find((u) => u.id === bob.id)?.current_view).toBe('code_editor');
		fromA = a.mark();
		b.send({ type: 'cursor_position', position: { line: 1, column: 2 } });
		const cur = await a.waitFor((x) => x.type === 'cursor_position', 'cursor', fromA);
		expect(cur).toMatchObject({
			user_id: bob.id,
			user_name: 'Bob',
			user_color: b.welcome.you.color,
			position: { line: 1, column: 2 },
			view: 'code_editor'
		});
		await b.barrier();
		expect(b.since(fromB, 'cursor_position')).toEqual([]);
		const fromB2 = b.mark();
		b.send({ type: 'ping' });
		expect(await b.waitFor((x) => x.type === 'pong', 'pong', fromB2)).toEqual({ type: 'pong' });
	});
});

describe('text', () => {
	it('[COMPAT8] JSON edits reach Yjs and JSON clients; Yjs edits reach JSON clients as text_op', async () => {
		const bob = await team.add('Bob', 'editor');
		const code = await peer(bob.client, 'code');
		const a = await json(team.owner);
		const b = await json(bob.client);
		let fromA = a.mark();
		let fromB = b.mark();
		a.send({
			type: 'text_op',
			file: 'main.py',
			revision: 0,
			ops: [{ type: 'insert', position: 0, data: 'print(1)\n' }]
		});
		expect(await a.waitFor((m) => m.type === 'text_op_ack', 'ack', fromA)).toMatchObject({
			file: 'main.py',
			revision: 1
		});
		const atB = (await b.waitFor((m) => m.type === 'text_op', 'op at B', fromB)) as TextOp;
		expect(atB).toMatchObject({
			file: 'main.py',
			revision: 1,
			user_id: team.ownerId,
			client_id: a.clientId
		});
		expect(atB.ops).toEqual([{ type: 'insert', position: 0, data: 'print(1)\n' }]);
		await docReaches(
			code.doc,
			(d) => textOf(d, 'main.py') === 'print(1)\n',
			'Yjs sees the JSON edit'
		);
		// acknowledged only once stored, with its author
		const stored = await server.storage.loadDoc(`${team.workspace}/code` as RoomName);
		const fromStore = new Y.Doc();
		if (stored.snapshot) Y.applyUpdate(fromStore, stored.snapshot);
		for (const u of stored.updates) Y.applyUpdate(fromStore, u.update);
		expect(textOf(fromStore, 'main.py')).toBe('print(1)\n');
		expect(stored.updates.at(-1)?.author).toBe(team.ownerId);

		// a concurrent edit made at revision 0 is transformed against revision 1; at
		// the same position, the client with the smaller id (A, connected first) goes first
		fromA = a.mark();
		fromB = b.mark();
		b.send({
			type: 'text_op',
			file: 'main.py',
			revision: 0,
			ops: [{ type: 'insert', position: 0, data: '# hi\n' }]
		});
		expect(await b.waitFor((m) => m.type === 'text_op_ack', 'ack B', fromB)).toMatchObject({
			revision: 2
		});
		const atA = (await a.waitFor((m) => m.type === 'text_op', 'op at A', fromA)) as TextOp;
		expect(atA.revision).toBe(2);
		await docReaches(
			code.doc,
			(d) => textOf(d, 'main.py') === 'print(1)\n# hi\n',
			'both edits in Yjs'
		);

		// Yjs edits come back as operations that a JSON client applies to the same text
		const follower = await json(team.owner);
		const ot = textClient(follower, 'main.py');
		fromA = a.mark();
		const text = code.doc.getMap<Y.Text>('files').get('main.py');
		text?.insert(text.length, 'x = 2\n');
		text?.delete(0, 5);
		const fromYjs = (await a.waitFor(
			(m) => m.type === 'text_op' && m.revision === 3,
			'Yjs op',
			fromA
		)) as TextOp;
		expect(fromYjs).toMatchObject({ file: 'main.py', user_id: bob.id });
		await follower.waitFor((m) => m.type === 'text_op' && m.revision === 4, 'second Yjs op');
		expect(ot.text).toBe(textOf(code.doc, 'main.py'));
		expect(ot.text).toBe('(1)\n# hi\nx = 2\n');
		// files created, replaced and deleted by Yjs clients arrive as whole-text edits
		const files = code.doc.getMap<Y.Text>('files');
		const fromFiles = follower.mark();
		const other = textClient(follower, 'other.py');
		files.set('other.py', new Y.Text('a = 1\n'));
		await follower.waitFor(
			(m) => m.type === 'text_op' && m.file === 'other.py',
			'created',
			fromFiles
		);
		expect(other.text).toBe('a = 1\n');
		files.set('other.py', new Y.Text('b = 2\n'));
		await follower.waitFor(
			(m) => m.type === 'text_op' && m.file === 'other.py' && m.revision === 2,
			'replaced',
			fromFiles
		);
		expect(other.text).toBe('b = 2\n');
		files.delete('other.py');
		await follower.waitFor(
			(m) => m.type === 'text_op' && m.file === 'other.py' && m.revision === 3,
			'deleted',
			fromFiles
		);
		expect(other.text).toBe('');
		// text_sync starts a file over: its content and revision now
		const fromSync = follower.mark();
		follower.send({ type: 'text_sync', file: 'main.py' });
		expect(await follower.waitFor((m) => m.type === 'text_state', 'text_state', fromSync)).toEqual({
			type: 'text_state',
			file: 'main.py',
			content: '(1)\n# hi\nx = 2\n',
			revision: 4
		});
	});
});

describe('bad input', () => {
	it('[COMPAT10] malformed JSON, unknown types and wrong fields get errors and change nothing', async () => {
		const params = await peer(team.owner, 'params');
		const c = await json(team.owner);
		const before = JSON.stringify(params.doc.getMap('hyperparameters').toJSON());
		const cases: [unknown, string][] = [
			['{not json', 'invalid_json'],
			['[1,2]', 'invalid_message'],
			[{ no: 'type' }, 'invalid_message'],
			[{ type: 'launch_missiles' }, 'unknown_type'],
			[{ type: 'state_update', value: 1 }, 'invalid_message'],
			[{ type: 'state_update', path: 42, value: 1 }, 'invalid_message'],
			[{ type: 'state_update', path: 'hyperparameters.__proto__', value: 1 }, 'invalid_path'],
			[{ type: 'state_update', path: 'training_status', value: 'running' }, 'read_only_path'],
			[{ type: 'presence_update', updates: { current_view: 'kitchen' } }, 'invalid_message'],
			[{ type: 'text_op', file: 'a.py', revision: -1, ops: [] }, 'invalid_message'],
			[
				{
					type: 'text_op',
					file: 'a.py',
					revision: 0,
					ops: [{ type: 'insert', position: 5, data: 'x' }]
				},
				'invalid_op'
			],
			[{ type: 'text_op', file: 'a.py', revision: 99, ops: [] }, 'future_revision'],
			[{ type: 'cursor_position', position: 'x'.repeat(5000) }, 'value_too_large']
		];
		for (const [message, code] of cases) {
			const from = c.mark();
			c.send(message);
			const err = await c.waitFor(
				(m) => m.type === 'error',
				`error for ${JSON.stringify(message)}`,
				from
			);
			expect(err.code, JSON.stringify(message)).toBe(code);
			expect(typeof err.message).toBe('string');
		}
		await c.barrier();
		expect(JSON.stringify(params.doc.getMap('hyperparameters').toJSON())).toBe(before);
	});

	it('[COMPAT11] more than 20 errors in 10 s closes with 4429; an oversized message with 1009', async () => {
		const c = await json(team.owner);
		for (let i = 0; i < 25; i++) c.send('nope');
		expect(await c.closed).toBe(4429);
		const d = await json(team.owner);
		d.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(2 * 1024 * 1024) }));
		expect(await d.closed).toBe(1009);
		// the server is still there for others
		const e = await json(team.owner);
		await e.barrier();
	});
});

function textOf(doc: Y.Doc, file: string): string {
	const t = doc.getMap<Y.Text>('files').get(file);
	return t ? t.toJSON() : '';
}

function waitForAwareness(p: Peer, ok: () => boolean, what: string): Promise<void> {
	if (ok()) return Promise.resolve();
	return new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 5000);
		const on = () => {
			if (!ok()) return;
			clearTimeout(timer);
			p.provider.awareness.off('change', on);
			resolve();
		};
		p.provider.awareness.on('change', on);
	});
}
