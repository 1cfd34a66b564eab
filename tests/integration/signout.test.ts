// Signing out (issue 17): the session's open sockets close at once and the
// WebSocket tokens issued in it stop opening sockets, on every process.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { ApiClient } from '../helpers/http.ts';
import { makeTeam, startTestServer, type TestServer } from '../helpers/server.ts';
import { REDIS_URL, redisAvailable } from '../relay/redisAvailable.ts';
import { withDeadline } from '../helpers/wait.ts';
import { closeCodeOf, upgradeOutcome } from '../helpers/yjs.ts';

let servers: TestServer[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
	for (const ws of sockets.splice(0)) ws.terminate();
	await Promise.all(servers.map((s) => s.close()));
	servers = [];
});

async function server(options: Parameters<typeof startTestServer>[0] = {}) {
	const s = await startTestServer({ memory: true, ...options });
	servers.push(s);
	return s;
}

/** An open socket (cookie from our own origin, or a token in the URL). */
function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
	return withDeadline(
		new Promise<WebSocket>((resolve, reject) => {
			const ws = new WebSocket(url, { headers });
			sockets.push(ws);
			ws.once('open', () => resolve(ws));
			ws.once('close', (code) => reject(new Error(`closed ${code} before opening`)));
			ws.once('error', reject);
		}),
		`open ${url.split('?')[0]}`
	);
}

async function signIn(base: string, address: string): Promise<ApiClient> {
	const client = new ApiClient(base);
	const reply = await client.post('/api/auth/login', {
		email: address,
		password: 'correct horse battery'
	});
	if (reply.status !== 200) throw new Error(`login failed: ${reply.status}`);
	return client;
}

describe('signing out', () => {
	it("[SEC2] signing out closes that session's sockets (relay and seed protocol, cookie and token) with 4401 and its tokens open nothing more", async () => {
		const s = await server();
		const team = await makeTeam(s);
		const W = team.workspace;
		const me = await team.owner.get<{ user: { email: string } }>('/api/me');
		const cookie = team.owner.cookie ?? '';
		const token = await team.owner.wsToken(W);
		const mine = [
			await open(`${s.wsUrl}/ws/${W}/params`, { cookie, origin: s.url }),
			await open(`${s.wsUrl}/ws/${W}/live?token=${token}`),
			await open(`${s.wsUrl}/ws/workspace/${W}?token=${token}`)
		];
		// The same person signed in elsewhere keeps that other session and its sockets.
		const laptop = await signIn(s.url, me.body.user.email);
		const other = await open(`${s.wsUrl}/ws/${W}/code?token=${await laptop.wsToken(W)}`);

		const closed = mine.map((ws) => closeCodeOf(ws));
		expect((await team.owner.post('/api/auth/logout')).status).toBe(204);
		expect(await Promise.all(closed)).toEqual([4401, 4401, 4401]);
		expect(other.readyState).toBe(WebSocket.OPEN);

		// The token had minutes left: it opens nothing now.
		expect(await upgradeOutcome(`${s.wsUrl}/ws/${W}/params?token=${token}`)).toEqual({
			kind: 'close',
			code: 4401
		});
		expect(await upgradeOutcome(`${s.wsUrl}/ws/workspace/${W}?token=${token}`)).toEqual({
			kind: 'close',
			code: 4401
		});
		// The other session still opens sockets.
		await open(`${s.wsUrl}/ws/${W}/params?token=${await laptop.wsToken(W)}`);
	});

	describe('on several processes', () => {
		let redis = false;
		beforeAll(async () => {
			redis = await redisAvailable('tests/integration/signout.test.ts');
		});

		it('[SEC2] signing out on one process closes the sockets of that session on another, and its tokens fail there too', async ({
			skip
		}) => {
			if (!redis) skip();
			const storage = new MemoryStorage({});
			try {
				const a = await server({ storage, redisUrl: REDIS_URL });
				const b = await server({ storage, redisUrl: REDIS_URL });
				const team = await makeTeam(a);
				const W = team.workspace;
				const token = await team.owner.wsToken(W);
				const onB = [
					await open(`${b.wsUrl}/ws/${W}/params?token=${token}`),
					await open(`${b.wsUrl}/ws/${W}/code`, { cookie: team.owner.cookie ?? '', origin: b.url })
				];
				const closed = onB.map((ws) => closeCodeOf(ws));
				expect((await team.owner.post('/api/auth/logout')).status).toBe(204);
				expect(await Promise.all(closed)).toEqual([4401, 4401]);
				expect(await upgradeOutcome(`${b.wsUrl}/ws/${W}/live?token=${token}`)).toEqual({
					kind: 'close',
					code: 4401
				});
			} finally {
				await Promise.all(servers.splice(0).map((s) => s.close()));
				await storage.close();
			}
		});
	});
});
