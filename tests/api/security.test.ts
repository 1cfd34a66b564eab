// What the HTTP server refuses (issue 19): the origin check whatever the path's
// spelling, sign-in limits, password rules, invitation links. Each test fails on
// the code before the fix.

import { afterEach, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import {
	email,
	makeTeam,
	ManualClock,
	startTestServer,
	type TestServer
} from '../helpers/server.ts';
import type { ErrorReply } from '../helpers/http.ts';
import { upgradeOutcome } from '../helpers/yjs.ts';

let servers: TestServer[] = [];
async function server(options: Parameters<typeof startTestServer>[0] = {}) {
	const s = await startTestServer({ memory: true, ...options });
	servers.push(s);
	return s;
}
afterEach(async () => {
	await Promise.all(servers.map((s) => s.close()));
	servers = [];
});

const EVIL = 'http://evil.example';

describe('the origin check', () => {
	it('[SEC1] a state-changing request from another origin is refused whatever the spelling of its path', async () => {
		const s = await server();
		const team = await makeTeam(s);
		const W = team.workspace;
		const attempts: Array<[string, string, unknown]> = [
			['POST', `/%61pi/workspaces/${W}/chat`, { text: 'from evil' }],
			['POST', `/ap%69/workspaces/${W}/chat`, { text: 'from evil' }],
			['POST', `/%41PI/workspaces/${W}/chat`, { text: 'from evil' }],
			['POST', `/api/workspaces/${W}/%63hat`, { text: 'from evil' }],
			['POST', `//api/workspaces/${W}/chat`, { text: 'from evil' }],
			['POST', `/api//workspaces/${W}/chat`, { text: 'from evil' }],
			['POST', `/%61pi/workspaces/${W}/runs`, {}],
			['PATCH', `/%61pi/workspaces/${W}`, { name: 'pwned' }],
			['DELETE', `/%61pi/workspaces/${W}`, undefined],
			['POST', '/%61pi/workspaces', { name: 'x' }],
			['POST', '/%61pi/auth/logout', undefined]
		];
		for (const [method, path, body] of attempts) {
			const reply = await team.owner.request<ErrorReply>(method, path, body, { origin: EVIL });
			expect(reply.status, `${method} ${path}`).toBe(403);
			expect(reply.body.error.code, `${method} ${path}`).toBe('bad_origin');
		}
		// Nothing happened: still signed in, the workspace keeps its name, no run, no chat.
		const ws = await team.owner.get<{ workspace: { name: string } }>(`/api/workspaces/${W}`);
		expect(ws.status).toBe(200);
		expect(ws.body.workspace.name).toBe('Experiments');
		const runs = await team.owner.get<{ runs: unknown[] }>(`/api/workspaces/${W}/runs`);
		expect(runs.body.runs).toEqual([]);
		const state = await team.owner.get<{ state: { training_status: string } }>(
			`/api/workspaces/${W}/state`
		);
		expect(state.body.state.training_status).not.toBe('running');
		// The same requests from our own origin go through (the decoded path is a real route).
		const own = await team.owner.request(
			'POST',
			`/%61pi/workspaces/${W}/chat`,
			{ text: 'hi' },
			{
				origin: s.url
			}
		);
		expect(own.status).toBe(201);
	});

	it('[SEC1] a WebSocket upgrade with the cookie from another origin is not authenticated, whatever the path spelling', async () => {
		const s = await server();
		const team = await makeTeam(s);
		const cookie = team.owner.cookie ?? '';
		for (const path of [
			`/ws/${team.workspace}/params`,
			`/ws/${team.workspace}/live`,
			`/ws/workspace/${team.workspace}`
		]) {
			expect(await upgradeOutcome(`${s.wsUrl}${path}`, { cookie, origin: EVIL }), path).toEqual({
				kind: 'close',
				code: 4401
			});
		}
		// Spellings that are no endpoint get no socket at all.
		for (const path of [`/w%73/${team.workspace}/params`, `//ws/${team.workspace}/params`]) {
			expect(await upgradeOutcome(`${s.wsUrl}${path}`, { cookie, origin: EVIL }), path).toEqual({
				kind: 'http',
				status: 404
			});
		}
	});
});

describe('sign-in limits', () => {
	const PASSWORD = 'the right one';
	const login = (s: TestServer, address: string, password: string, from: string) =>
		s
			.client()
			.request<ErrorReply>(
				'POST',
				'/api/auth/login',
				{ email: address, password },
				{ 'x-forwarded-for': from }
			);

	it('[SEC3] five wrong passwords from one address lock that address out of the account, not its owner at another address', async () => {
		const clock = new ManualClock();
		const s = await server({ clock, trustProxy: true });
		const address = email('Owner');
		await s.client().signup('Owner', address, PASSWORD);
		for (let i = 0; i < 5; i++) {
			expect((await login(s, address, `guess ${i} guess`, '203.0.113.5')).status).toBe(401);
		}
		const locked = await login(s, address, PASSWORD, '203.0.113.5');
		expect(locked.status).toBe(429);
		expect(locked.body.error.code).toBe('too_many_attempts');
		expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(14 * 60);
		// The owner, elsewhere, signs in at once.
		expect((await login(s, address, PASSWORD, '198.51.100.7')).status).toBe(200);
		clock.advance(16 * 60 * 1000);
		expect((await login(s, address, PASSWORD, '203.0.113.5')).status).toBe(200);
	});

	it('[SEC3] guessing one account from many addresses stops at the account limit, except from addresses that signed in to it before', async () => {
		const s = await server({ trustProxy: true, signInMaxPerAccount: 12 });
		const address = email('Target');
		await s.client().signup('Target', address, PASSWORD);
		expect((await login(s, address, PASSWORD, '198.51.100.7')).status).toBe(200);
		// Four addresses, three guesses each: under the pair and address limits, at the account's.
		for (let a = 1; a <= 4; a++) {
			for (let i = 0; i < 3; i++) {
				expect((await login(s, address, `guess ${a}.${i}`, `203.0.113.${a}`)).status).toBe(401);
			}
		}
		const fromNew = await login(s, address, PASSWORD, '203.0.113.99');
		expect(fromNew.status).toBe(429);
		expect(fromNew.body.error.code).toBe('too_many_attempts');
		// The owner's known address still gets in.
		expect((await login(s, address, PASSWORD, '198.51.100.7')).status).toBe(200);
	});
});

describe('password rules', () => {
	it('[SEC4] sign-up refuses the commonest passwords, one repeated character and blank ones, with a 400 naming the password', async () => {
		const s = await server();
		for (const password of [
			'password',
			'Password1',
			'aaaaaaaa',
			'        ',
			'\t\t\t\t\t\t\t\t',
			'qwertyuiop'
		]) {
			const address = email('Weak');
			const reply = await s
				.client()
				.post<ErrorReply>('/api/auth/signup', { name: 'Weak', email: address, password });
			expect(reply.status, JSON.stringify(password)).toBe(400);
			expect(reply.body.error.code).toBe('weak_password');
			expect(reply.body.error.message).toMatch(/^The password /);
			// Nothing was created: the address is still free.
			expect(
				(
					await s
						.client()
						.post('/api/auth/signup', { name: 'Weak', email: address, password: 'a real phrase' })
				).status
			).toBe(201);
		}
	});
});

/** A POST with headers fetch() refuses to set (Host). */
function rawPost(
	s: TestServer,
	path: string,
	body: unknown,
	headers: Record<string, string>
): Promise<{ status: number; body: { invite_url: string; invite_token: string } }> {
	return new Promise((resolve, reject) => {
		const payload = JSON.stringify(body);
		const req = httpRequest(
			{
				host: '127.0.0.1',
				port: s.port,
				path,
				method: 'POST',
				headers: {
					...headers,
					'content-type': 'application/json',
					'content-length': payload.length
				}
			},
			(res) => {
				let text = '';
				res.on('data', (c: Buffer) => (text += c.toString()));
				res.on('end', () =>
					resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as never })
				);
			}
		);
		req.on('error', reject);
		req.end(payload);
	});
}

describe('invitation links', () => {
	it("[SEC5] with PUBLIC_URL unset, the invitation link points at this server's own address, whatever Host the request names", async () => {
		const s = await server();
		const team = await makeTeam(s);
		// fetch() will not send another Host: a raw request does, as any script can.
		const reply = await rawPost(
			s,
			`/api/workspaces/${team.workspace}/invite`,
			{ email: email('Guest'), role: 'viewer' },
			{ host: 'evil.example', cookie: team.owner.cookie ?? '' }
		);
		expect(reply.status).toBe(200);
		expect(reply.body.invite_url).toBe(
			`${s.url}/workspace/${team.workspace}/join?token=${reply.body.invite_token}`
		);
	});

	it('[SEC5] with PUBLIC_URL set, the link uses it', async () => {
		const s = await server({ publicUrl: 'https://ensemble.example.com' });
		const team = await makeTeam(s);
		const reply = await rawPost(
			s,
			`/api/workspaces/${team.workspace}/invite`,
			{ email: email('Guest'), role: 'viewer' },
			{ host: 'evil.example', cookie: team.owner.cookie ?? '' }
		);
		expect(reply.status).toBe(200);
		expect(reply.body.invite_url).toMatch(/^https:\/\/ensemble\.example\.com\/workspace\//);
	});
});
