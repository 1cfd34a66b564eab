// CompatServer on a Relay with MemoryStorage and its own `ws` server on port 0,
// without the HTTP layer: what the API cannot show (COMPAT2's presentUsers for
// GET /users, COMPAT8's behaviour when storage fails).
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { CompatServer } from '../../server/compat/index.ts';
import { userColor } from '../../server/protocol/colors.ts';
import { parseUserId, parseWorkspaceId, type WorkspaceId } from '../../server/protocol/ids.ts';
import { isRole } from '../../server/protocol/roles.ts';
import { Relay } from '../../server/relay/relay.ts';
import { silentLogger, systemClock } from '../../server/runtime.ts';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { JsonClient } from './jsonClient.ts';

let storage: MemoryStorage;
let relay: Relay;
let compat: CompatServer;
let wss: WebSocketServer;
let base: string;
const clients: JsonClient[] = [];
const workspace = parseWorkspaceId('ws1') as WorkspaceId;

beforeEach(async () => {
	storage = new MemoryStorage();
	relay = new Relay({ storage, clock: systemClock, logger: silentLogger });
	compat = new CompatServer({ relay, clock: systemClock, logger: silentLogger });
	wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
	// Test-only authentication: who and what role come from the query.
	wss.on('connection', (ws, req) => {
		const q = new URL(req.url ?? '/', 'http://x').searchParams;
		const id = parseUserId(q.get('as') ?? '');
		const role = q.get('role');
		if (!id || !isRole(role)) return ws.close(4401);
		compat.handleConnection(
			ws,
			workspace,
			{ id, name: id.toUpperCase(), email: `${id}@example.com`, color: userColor(id), role },
			q
		);
	});
	await new Promise((resolve) => wss.once('listening', resolve));
	base = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/?`;
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
});
