// CompatServer on a Relay with MemoryStorage and its own `ws` server on port 0,
// without the HTTP layer: what the API cannot show (COMPAT2's presentUsers for
// GET /users, COMPAT8's behaviour when storage fails).
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { docReaches } from '../helpers/yjs.ts';
import { CompatServer } from '../../server/compat/index.ts';
import { userColor } from '../../server/protocol/colors.ts';
import { parseUserId, parseWorkspaceId, type WorkspaceId } from '../../server/protocol/ids.ts';
import { parseRoomName } from '../../server/protocol/docs.ts';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { isRole } from '../../server/protocol/roles.ts';
import { Relay } from '../../server/relay/relay.ts';
import { silentLogger, systemClock } from '../../server/runtime.ts';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { JsonClient } from './jsonClient.ts';

let storage: MemoryStorage;
/** What storage did, in order, with what JSON clients heard in between. */
const events: string[] = [];
let relay: Relay;
let compat: CompatServer;
let wss: WebSocketServer;
let base: string;
let port: number;
const clients: JsonClient[] = [];
const workspace = parseWorkspaceId('ws1') as WorkspaceId;

beforeEach(async () => {
	events.length = 0;
	storage = new MemoryStorage({ onCommit: (info) => events.push(info.ok ? 'stored' : 'failed') });
	relay = new Relay({ storage, clock: systemClock, logger: silentLogger });
	compat = new CompatServer({ relay, clock: systemClock, logger: silentLogger });
	wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
	// Test-only authentication: who and what role come from the query.
	wss.on('connection', (ws, req) => {
		const url = new URL(req.url ?? '/', 'http://x');
		const q = url.searchParams;
		const id = parseUserId(q.get('as') ?? '');
		const role = q.get('role');
		if (!id || !isRole(role)) return ws.close(4401);
		const identity = {
			id,
			name: id.toUpperCase(),
			email: `${id}@example.com`,
			color: userColor(id),
			role
		};
		// `/y/{workspace}/{doc}`: the relay, for stock Yjs clients
		const key = url.pathname.startsWith('/y/') ? parseRoomName(url.pathname.slice(3)) : null;
		if (key) relay.handleConnection(ws, key, identity, { ack: false });
		else compat.handleConnection(ws, workspace, identity, q);
	});
	await new Promise((resolve) => wss.once('listening', resolve));
	port = (wss.address() as AddressInfo).port;
	base = `ws://127.0.0.1:${port}/?`;
});

afterEach(async () => {
	for (const c of clients.splice(0)) await c.close();
	await compat.close();
	await relay.close();
	await new Promise((resolve) => wss.close(resolve));
	await storage.close();
});

async function connect(as: string, role = 'editor'): Promise<JsonClient> {
	const c = await JsonClient.connect(`${base}as=${as}&role=${role}`);
	clients.push(c);
	return c;
}

describe('without the HTTP layer', () => {
	it('[COMPAT2] presentUsers lists the people connected over JSON, one entry each', async () => {
		const a = await connect('ann');
		await connect('ann');
		const b = await connect('ben', 'viewer');
		b.send({ type: 'presence_update', updates: { current_view: 'data_table' } });
		await b.waitFor((m) => m.type === 'presence_update', 'presence echoed');
		const users = compat.presentUsers(workspace).sort((x, y) => x.id.localeCompare(y.id));
		expect(users).toMatchObject([
			{
				id: 'ann',
				name: 'ANN',
				email: 'ann@example.com',
				role: 'editor',
				current_view: 'dashboard'
			},
			{ id: 'ben', role: 'viewer', current_view: 'data_table' }
		]);
		await a.close();
		expect(
			compat
				.presentUsers(workspace)
				.map((u) => u.id)
				.sort()
		).toEqual(['ann', 'ben']);
	});

	it('[COMPAT8] an edit that cannot be stored is not acknowledged; JSON clients start over', async () => {
		const a = await connect('ann');
		const b = await connect('ben');
		storage.failNextCommit(new Error('disk full'));
		a.send({
			type: 'text_op',
			file: 'x.py',
			revision: 0,
			ops: [{ type: 'insert', position: 0, data: 'lost?' }]
		});
		const err = await a.waitFor((m) => m.type === 'error', 'not saved');
		expect(err.code).toBe('not_saved');
		expect(await a.closed).toBe(1011);
		expect(await b.closed).toBe(1011);
		expect(a.messages.some((m) => m.type === 'text_op_ack')).toBe(false);
		expect(b.messages.some((m) => m.type === 'text_op')).toBe(false);
	});

	it('[COMPAT11] a flood of valid messages runs out the rate limit (4429)', async () => {
		await compat.close();
		compat = new CompatServer({
			relay,
			clock: systemClock,
			logger: silentLogger,
			limits: { messagesPerSecond: 10, messageBurst: 20 }
		});
		const ann = await connect('ann');
		for (let i = 0; i < 40; i++) ann.send({ type: 'ping' });
		expect(await ann.closed).toBe(4429);
		expect(ann.messages.filter((m) => m.type === 'pong').length).toBeLessThanOrEqual(21);
	});

	it('[COMPAT13] when the relay closes the workspace, its JSON clients are closed the same way', async () => {
		const ann = await connect('ann');
		await relay.closeWorkspace(workspace);
		expect(await ann.closed).toBe(4404);
	});

	it('[COMPAT8] a Yjs edit reaches JSON clients only once it is stored', async () => {
		const ann = await connect('ann');
		ann.send({
			type: 'text_op',
			file: 'a.py',
			revision: 0,
			ops: [{ type: 'insert', position: 0, data: 'x' }]
		});
		await ann.waitFor((m) => m.type === 'text_op_ack', 'created');
		const doc = new Y.Doc();
		const provider = new WebsocketProvider(`ws://127.0.0.1:${port}/y`, 'ws1/code', doc, {
			WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
			disableBc: true,
			params: { as: 'ben', role: 'editor' }
		});
		try {
			await docReaches(
				doc,
				(d) => d.getMap<Y.Text>('files').get('a.py')?.toJSON() === 'x',
				'Yjs has the file'
			);
			ann.onMessage((m) => {
				if (m.type === 'text_op') events.push('json heard');
			});
			events.length = 0;
			storage.failNextCommit(new Error('disk hiccup'));
			doc.getMap<Y.Text>('files').get('a.py')?.insert(1, 'y');
			const heard = await ann.waitFor((m) => m.type === 'text_op', 'the Yjs edit', 0, 5000);
			expect(heard).toMatchObject({
				file: 'a.py',
				ops: [{ type: 'insert', position: 1, data: 'y' }],
				user_id: 'ben'
			});
			expect(events[0]).toBe('failed');
			expect(events.indexOf('json heard')).toBeGreaterThan(events.indexOf('stored'));
			expect(events.indexOf('stored')).toBeGreaterThan(0);
		} finally {
			provider.destroy();
			doc.destroy();
		}
	});
});
