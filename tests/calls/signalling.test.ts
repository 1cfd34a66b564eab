// Call signalling at /ws/{workspace}/call (CALL1…CALL9): members only, a message
// reaches only the peer it names, on one process and across two (Redis bus).

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../server/protocol/closeCodes.ts';
import { loadConfig, ConfigError } from '../../server/config.ts';
import type { ServerCallMessage } from '../../server/protocol/call.ts';
import { Cluster } from '../helpers/cluster.ts';
import { ApiClient } from '../helpers/http.ts';
import { email, makeTeam, startTestServer, type TestServer } from '../helpers/server.ts';
import { servicesAvailable } from '../helpers/services.ts';
import { CallClient, refusedWith } from './callClient.ts';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
	const s = await startTestServer({ memory: true, ...options });
	cleanups.push(() => s.close());
	return s;
}

async function join(
	s: { wsUrl: string },
	workspace: string,
	client: ApiClient
): Promise<CallClient> {
	const c = await CallClient.join(s.wsUrl, workspace, await client.wsToken(workspace));
	cleanups.push(() => c.close());
	return c;
}

const isJoined = (peer: string) => (m: ServerCallMessage) => m.type === 'joined' && m.peer === peer;
const isLeft = (peer: string) => (m: ServerCallMessage) => m.type === 'left' && m.peer === peer;

describe('call signalling', () => {
	it('[CALL1] a non-member, a signed-out caller and a token for another workspace cannot enter a call; a viewer can', async () => {
		const s = await server();
		const team = await makeTeam(s);
		const other = await makeTeam(s, 'Mallory');
		const callUrl = `${s.wsUrl}/ws/${team.workspace}/call`;

		expect(await refusedWith(callUrl)).toBe(CloseCode.unauthenticated);
		const otherToken = await other.owner.wsToken(other.workspace);
		expect(await refusedWith(`${callUrl}?token=${otherToken}`)).toBe(CloseCode.unauthenticated);
		// A member of nothing here, with a valid token of her own workspace, cannot
		// name this one; and a non-member cannot get a token for it.
		const outsider = s.client();
		await outsider.signup('Eve', email('Eve'));
		expect((await outsider.get(`/api/workspaces/${team.workspace}/token`)).status).toBe(403);
		expect(await refusedWith(`${s.wsUrl}/ws/nosuchworkspace/call?token=${otherToken}`)).toBe(
			CloseCode.unauthenticated
		);

		const viewer = await team.add('Victor', 'viewer');
		const owner = await join(s, team.workspace, team.owner);
		const v = await join(s, team.workspace, viewer.client);
		const joined = await owner.next(isJoined(v.peer), 'the viewer joining');
		expect(joined).toMatchObject({ user: { id: viewer.id, name: 'Victor', role: 'viewer' } });
	});

	it('[CALL1] a cookie without a member behind it is refused with 4403', async () => {
		const s = await server();
		const team = await makeTeam(s);
		const outsider = s.client();
		await outsider.signup('Eve', email('Eve'));
		const { default: WebSocket } = await import('ws');
		const socket = new WebSocket(`${s.wsUrl}/ws/${team.workspace}/call`, {
			headers: { cookie: outsider.cookie ?? '', origin: s.url }
		});
		socket.on('error', () => undefined);
		const code = await new Promise<number>((resolve) => socket.on('close', (c) => resolve(c)));
		expect(code).toBe(CloseCode.forbidden);
	});

	it('[CALL2] the newcomer is told who is in the call; the others are told who joined, changed and left', async () => {
		const s = await server();
		const team = await makeTeam(s);
		const bob = await team.add('Bob', 'editor');
		const a = await join(s, team.workspace, team.owner);
		const b = await join(s, team.workspace, bob.client);
		const welcome = b.received[0];
		expect(welcome).toMatchObject({ type: 'welcome', peer: b.peer, iceServers: [] });
		expect(welcome?.type === 'welcome' && welcome.peers.map((p) => p.peer)).toEqual([a.peer]);
		await a.next(isJoined(b.peer), 'Bob joining');

		b.send({ type: 'state', state: { muted: true, camera: false, sharing: true } });
		const state = await a.next((m) => m.type === 'state' && m.peer === b.peer, 'Bob muting');
		expect(state).toMatchObject({ state: { muted: true, camera: false, sharing: true } });

		b.close();
		await a.next(isLeft(b.peer), 'Bob leaving');
	});

	it('[CALL3] a message for one peer reaches that peer only, stamped with its sender; a peer of another workspace is unknown', async () => {
		const s = await server();
		const team = await makeTeam(s);
		const bob = await team.add('Bob', 'editor');
		const carol = await team.add('Carol', 'viewer');
		const elsewhere = await makeTeam(s, 'Dan');
		const a = await join(s, team.workspace, team.owner);
		const b = await join(s, team.workspace, bob.client);
		const c = await join(s, team.workspace, carol.client);
		const d = await join(s, elsewhere.workspace, elsewhere.owner);

		a.signal(b.peer, 'for-bob');
		a.signal(d.peer, 'for-dan');
		// Sent after the others on the same path: once they arrive, anything misrouted has too.
		a.signal(c.peer, 'barrier-carol');
		a.signal(b.peer, 'barrier-bob');
		await c.next((m) => m.type === 'signal', 'the barrier to Carol');
		await b.next(
			(m) => m.type === 'signal' && m.data.candidate?.candidate === 'barrier-bob',
			'the barrier to Bob'
		);
		const unknown = await a.next((m) => m.type === 'error', 'the unknown peer error');
		expect(unknown).toMatchObject({ code: 'unknown_peer' });
		expect(b.markers()).toEqual(['for-bob', 'barrier-bob']);
		expect(c.markers()).toEqual(['barrier-carol']);
		expect(a.markers()).toEqual([]);
		const got = b.received.find((m) => m.type === 'signal');
		expect(got).toMatchObject({ from: a.peer, user: { id: team.ownerId, name: 'Olivia' } });

		// Dan's own workspace hears nothing of it either.
		const dan2 = await join(s, elsewhere.workspace, elsewhere.owner);
		dan2.signal(d.peer, 'barrier-dan');
		await d.next((m) => m.type === 'signal', 'the barrier to Dan');
		expect(d.markers()).toEqual(['barrier-dan']);
	});

	it('[CALL5] a message too large (4413), too many too fast (4429), or not a call message (1007, 1003) closes that socket with a code that says why', async () => {
		const s = await server();
		const team = await makeTeam(s);
		const big = await join(s, team.workspace, team.owner);
		big.send({
			type: 'signal',
			to: 'abcdefghij',
			data: { description: { type: 'offer', sdp: 'x'.repeat(70_000) } }
		});
		expect((await big.closed).code).toBe(CloseCode.payloadTooLarge);

		const fast = await join(s, team.workspace, team.owner);
		for (let i = 0; i < 400; i++)
			fast.send({ type: 'state', state: { muted: true, camera: false, sharing: false } });
		expect((await fast.closed).code).toBe(CloseCode.tooFast);

		const bad = await join(s, team.workspace, team.owner);
		bad.send('{"type":"signal","to":"x"}');
		const closed = await bad.closed;
		expect(closed.code).toBe(CloseCode.invalidPayload);
		expect(closed.reason).toBe('signal without a valid "to"');

		const binary = await join(s, team.workspace, team.owner);
		binary.socket.send(new Uint8Array([1, 2, 3]));
		expect((await binary.closed).code).toBe(CloseCode.unsupportedData);
	});

	it('[CALL6] a peer whose network is gone (it answers no ping) is dropped, and the others see it leave', async () => {
		const s = await server({ callLimits: { pingMs: 200 } });
		const team = await makeTeam(s);
		const a = await join(s, team.workspace, team.owner);
		const token = await team.owner.wsToken(team.workspace);
		const { default: WebSocket } = await import('ws');
		const silent = new WebSocket(`${s.wsUrl}/ws/${team.workspace}/call?token=${token}`, {
			autoPong: false
		});
		silent.on('error', () => undefined);
		const joined = await a.next((m) => m.type === 'joined', 'the silent peer joining');
		await a.next(isLeft(joined.type === 'joined' ? joined.peer : ''), 'the silent peer dropped');
		silent.terminate();
	});

	it('[CALL7] a member removed from the workspace is put out of its call at once (4403), and the others see them leave', async () => {
		const s = await server();
		const team = await makeTeam(s);
		const bob = await team.add('Bob', 'viewer');
		const a = await join(s, team.workspace, team.owner);
		const b = await join(s, team.workspace, bob.client);
		const removed = await team.owner.delete(`/api/workspaces/${team.workspace}/members/${bob.id}`);
		expect(removed.status).toBeLessThan(300);
		expect((await b.closed).code).toBe(CloseCode.forbidden);
		await a.next(isLeft(b.peer), 'Bob leaving');
	});

	it('[CALL8] a call holds MAX_CALL_PEERS people; the next is refused with 4409', async () => {
		const s = await server();
		const team = await makeTeam(s);
		const token = await team.owner.wsToken(team.workspace);
		const peers: CallClient[] = [];
		for (let i = 0; i < 8; i++) {
			const c = await CallClient.join(s.wsUrl, team.workspace, token);
			cleanups.push(() => c.close());
			peers.push(c);
		}
		expect(await refusedWith(`${s.wsUrl}/ws/${team.workspace}/call?token=${token}`)).toBe(
			CloseCode.callFull
		);
	});

	it('[CALL9] ICE_SERVERS is validated at start with a message naming it, and handed to every peer', async () => {
		expect(() => loadConfig({ SECRET: 'x'.repeat(40), ICE_SERVERS: 'stun:x' })).toThrow(
			ConfigError
		);
		expect(() =>
			loadConfig({ SECRET: 'x'.repeat(40), ICE_SERVERS: '[{"urls":"turn:t.example.com"}]' })
		).toThrow(/ICE_SERVERS entry 0: a TURN server needs "username" and "credential"/);
		expect(() =>
			loadConfig({ SECRET: 'x'.repeat(40), ICE_SERVERS: '[{"urls":"http://x"}]' })
		).toThrow(/not a stun:, stuns:, turn: or turns: URL/);
		const iceServers = [
			{ urls: 'stun:stun.example.com:3478' },
			{ urls: ['turn:turn.example.com:3478'], username: 'u', credential: 'p' }
		];
		const env = { SECRET: 'x'.repeat(40), ICE_SERVERS: JSON.stringify(iceServers) };
		expect(loadConfig(env).iceServers).toEqual(iceServers);
		const s = await server({ iceServers });
		const team = await makeTeam(s);
		const a = await join(s, team.workspace, team.owner);
		expect(a.received[0]).toMatchObject({ type: 'welcome', iceServers });
	});
});

describe('call signalling across two processes', { timeout: 60_000 }, () => {
	let available = false;
	beforeAll(async () => {
		available = await servicesAvailable('tests/calls/signalling.test.ts');
	});

	it('[CALL4] peers on two processes learn of each other, a signal crosses to the one peer it names, and leaving is seen across', async ({
		skip
	}) => {
		if (!available) skip();
		const cluster = await Cluster.start(2);
		cleanups.push(() => cluster.close());
		const [p1, p2] = [cluster.member(0), cluster.member(1)];
		const owner = new ApiClient(p1.url);
		await owner.signup('Olivia', email('Olivia'));
		const workspace = (await owner.createWorkspace()).id;
		const addOn = async (name: string) => {
			const client = new ApiClient(p2.url);
			const user = await client.signup(name, email(name));
			const token = await owner.invite(workspace, user.email, 'editor');
			expect((await client.join(workspace, token)).status).toBe(200);
			return client;
		};
		const bob = await addOn('Bob');
		const carol = await addOn('Carol');

		const a = await join(p1, workspace, owner);
		const b = await join(p2, workspace, bob);
		// A learns of B through the bus; B learns of A from A's process.
		await a.next(isJoined(b.peer), 'Bob (process 2) joining, seen on process 1');
		await b.next(isJoined(a.peer), 'Olivia (process 1) introduced to Bob on process 2');
		const c = await join(p2, workspace, carol);
		await a.next(isJoined(c.peer), 'Carol joining, seen on process 1');

		a.signal(b.peer, 'for-bob');
		a.signal(c.peer, 'barrier-carol');
		a.signal(b.peer, 'barrier-bob');
		await c.next((m) => m.type === 'signal', 'the barrier to Carol');
		await b.next(
			(m) => m.type === 'signal' && m.data.candidate?.candidate === 'barrier-bob',
			'the barrier to Bob'
		);
		expect(b.markers()).toEqual(['for-bob', 'barrier-bob']);
		expect(c.markers()).toEqual(['barrier-carol']);
		expect(b.received.find((m) => m.type === 'signal')).toMatchObject({ from: a.peer });

		b.signal(a.peer, 'back-to-olivia');
		await a.next((m) => m.type === 'signal', 'the answer crossing back');
		expect(a.markers()).toEqual(['back-to-olivia']);

		b.send({ type: 'state', state: { muted: true, camera: true, sharing: false } });
		await a.next(
			(m) => m.type === 'state' && m.peer === b.peer && m.state.muted,
			'Bob muted, across'
		);
		b.close();
		await a.next(isLeft(b.peer), 'Bob leaving, across');
		await c.next(isLeft(b.peer), 'Bob leaving, same process');

		// [CALL6] A process that stops (SIGSTOP: its sockets stay open but silent):
		// its peers are gone for everyone else within three heartbeats.
		p2.child.kill('SIGSTOP');
		const stopped = Date.now();
		await a.next(isLeft(c.peer), 'Carol gone with her process', 30_000);
		console.log(`[CALL6] peers of a stopped process left after ${Date.now() - stopped} ms`);
	});
});
