import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../server/auth/passwords.ts';
import { hashApiKey, newApiKey } from '../../server/auth/apiKeys.ts';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { email, ManualClock, startTestServer, type TestServer } from '../helpers/server.ts';
import type { ErrorReply, UserBody } from '../helpers/http.ts';
import { connectPeer, synced } from '../helpers/yjs.ts';

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

describe('accounts', () => {
	it('[AUTH1] sign-up creates the account and a session cookie that is httpOnly and SameSite=Lax', async () => {
		const s = await server();
		const client = s.client();
		const address = email('Ann');
		const reply = await client.post<UserBody>('/api/auth/signup', {
			name: 'Ann',
			email: address,
			password: 'correct horse'
		});
		expect(reply.status).toBe(201);
		expect(reply.body.user).toMatchObject({ name: 'Ann', email: address });
		expect(reply.body.user.color).toMatch(/^#[0-9a-fA-F]{6}$/);
		const cookie = client.lastSetCookie ?? '';
		expect(cookie).toMatch(/^ensemble_session=/);
		expect(cookie).toMatch(/HttpOnly/i);
		expect(cookie).toMatch(/SameSite=Lax/i);
		expect(cookie).not.toMatch(/Secure/i);
		const me = await client.get<UserBody>('/api/me');
		expect(me.status).toBe(200);
		expect(me.body.user.id).toBe(reply.body.user.id);
	});

	it('[AUTH1] the cookie is Secure when PUBLIC_URL is https', async () => {
		const s = await server({ publicUrl: 'https://ensemble.example.com' });
		const client = s.client();
		await client.signup('Ann', email('Ann'));
		expect(client.lastSetCookie).toMatch(/Secure/i);
	});

	it('[AUTH1] behind a proxy (TRUST_PROXY) the cookie is Secure when the request came over https', async () => {
		const s = await server({ trustProxy: true });
		const client = s.client();
		const reply = await client.request(
			'POST',
			'/api/auth/signup',
			{ name: 'Ann', email: email('Ann'), password: 'correct horse' },
			{ 'x-forwarded-proto': 'https' }
		);
		expect(reply.status).toBe(201);
		expect(client.lastSetCookie).toMatch(/Secure/i);
	});

	it('[AUTH1] e-mail addresses are unique, case-insensitively', async () => {
		const s = await server();
		const address = email('Bob');
		await s.client().signup('Bob', address);
		const again = await s.client().post<ErrorReply>('/api/auth/signup', {
			name: 'Bob',
			email: address.toUpperCase(),
			password: 'long enough'
		});
		expect(again.status).toBe(409);
		expect(again.body.error.code).toBe('email_taken');
	});

	it('[AUTH2] passwords are stored as salted scrypt hashes and verified', async () => {
		const storage = new MemoryStorage();
		const s = await server({ storage });
		const address = email('Cy');
		await s.client().signup('Cy', address, 'my secret words');
		const user = await storage.getUserByEmail(address);
		expect(user?.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
		expect(user?.passwordHash).not.toContain('my secret words');
		const a = await hashPassword('same password');
		const b = await hashPassword('same password');
		expect(a).not.toBe(b);
		expect(await verifyPassword('same password', a)).toBe(true);
		expect(await verifyPassword('same passwore', a)).toBe(false);
		expect(await verifyPassword('same password', 'garbage')).toBe(false);
		await storage.close();
	});

	it('[AUTH3] a wrong password and an unknown e-mail get the same 401', async () => {
		const s = await server();
		const address = email('Dee');
		await s.client().signup('Dee', address, 'the right one');
		const wrong = await s
			.client()
			.post<ErrorReply>('/api/auth/login', { email: address, password: 'the wrong one' });
		expect(wrong.status).toBe(401);
		expect(wrong.body.error.code).toBe('wrong_credentials');
		const unknown = await s
			.client()
			.post<ErrorReply>('/api/auth/login', { email: email('Nobody'), password: 'the right one' });
		expect(unknown.status).toBe(401);
		expect(unknown.body).toEqual(wrong.body);
		const right = s.client();
		const ok = await right.post<UserBody>('/api/auth/login', {
			email: address.toUpperCase(),
			password: 'the right one'
		});
		expect(ok.status).toBe(200);
		expect((await right.get('/api/me')).status).toBe(200);
	});

	it('[AUTH4] failed sign-ins are limited per account and address, even for the right password afterwards', async () => {
		const clock = new ManualClock();
		const s = await server({ clock, signInMaxPerPair: 3 });
		const address = email('Eve');
		await s.client().signup('Eve', address, 'the right one');
		for (let i = 0; i < 3; i++) {
			expect(
				(await s.client().post('/api/auth/login', { email: address, password: 'nope nope' })).status
			).toBe(401);
		}
		const blocked = await s
			.client()
			.post<ErrorReply>('/api/auth/login', { email: address, password: 'the right one' });
		expect(blocked.status).toBe(429);
		expect(blocked.body.error.code).toBe('too_many_attempts');
		expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
		clock.advance(16 * 60 * 1000);
		expect(
			(await s.client().post('/api/auth/login', { email: address, password: 'the right one' }))
				.status
		).toBe(200);
	});

	it('[AUTH4] failed sign-ins are limited per address across accounts', async () => {
		const s = await server({ signInMaxPerAddress: 4, signInMaxPerAccount: 100 });
		for (let i = 0; i < 4; i++) {
			const r = await s
				.client()
				.post('/api/auth/login', { email: email(`spray${i}`), password: 'guess guess' });
			expect(r.status).toBe(401);
		}
		const address = email('Fay');
		await s.client().signup('Fay', address, 'the right one');
		const blocked = await s
			.client()
			.post<ErrorReply>('/api/auth/login', { email: address, password: 'the right one' });
		expect(blocked.status).toBe(429);
	});

	it('[AUTH4] sign-up and sign-in requests are limited per address (AUTH_RATE_LIMIT)', async () => {
		const s = await server({ authRateLimit: 3 });
		for (let i = 0; i < 3; i++) {
			const r = await s
				.client()
				.post('/api/auth/login', { email: email('x'), password: 'whatever' });
			expect(r.status).toBe(401);
		}
		const limited = await s
			.client()
			.post<ErrorReply>('/api/auth/login', { email: email('y'), password: 'whatever' });
		expect(limited.status).toBe(429);
		expect(limited.body.error.code).toBe('rate_limited');
		expect((await s.client().get('/healthz')).status).toBe(200);
	});

	it('[AUTH5] sign-out ends the session; the old cookie no longer works', async () => {
		const s = await server();
		const client = s.client();
		await client.signup('Gus', email('Gus'));
		const cookie = client.cookie;
		expect((await client.post('/api/auth/logout')).status).toBe(204);
		const stale = s.client();
		stale.cookie = cookie;
		const me = await stale.get<ErrorReply>('/api/me');
		expect(me.status).toBe(401);
		expect(me.body.error.code).toBe('unauthenticated');
	});

	it('[AUTH5] an expired session is refused', async () => {
		const clock = new ManualClock();
		const s = await server({ clock });
		const client = s.client();
		await client.signup('Hal', email('Hal'));
		clock.advance(s.config.sessionTtlMs + 1000);
		expect((await client.get('/api/me')).status).toBe(401);
	});

	it('[AUTH5] sessions and tokens made on one process work on another sharing SECRET and storage', async () => {
		const storage = new MemoryStorage();
		const a = await server({ storage });
		const b = await server({ storage });
		const client = a.client();
		await client.signup('Ida', email('Ida'));
		const ws = await client.createWorkspace();
		const onB = b.client();
		onB.cookie = client.cookie;
		expect((await onB.get('/api/me')).status).toBe(200);
		const token = await client.wsToken(ws.id);
		const peer = await connectPeer(b, onB, ws.id, 'params', { token });
		await synced(peer);
		peer.destroy();
		await storage.close();
	});

	it('[AUTH6] with SIGNUP=invite-only, sign-up needs an invitation, and joins with it', async () => {
		const storage = new MemoryStorage();
		const open = await server({ storage });
		const closed = await server({ storage, signup: 'invite-only' });
		const owner = open.client();
		await owner.signup('Jo', email('Jo'));
		const ws = await owner.createWorkspace();
		const refused = await closed.client().post<ErrorReply>('/api/auth/signup', {
			name: 'Kim',
			email: email('Kim'),
			password: 'long enough'
		});
		expect(refused.status).toBe(403);
		expect(refused.body.error.code).toBe('signup_closed');
		const invite = await owner.invite(ws.id, 'kim@example.com', 'editor');
		const kim = closed.client();
		const ok = await kim.post<UserBody & { joined: { workspace: string; role: string } }>(
			'/api/auth/signup',
			{
				name: 'Kim',
				email: email('Kim'),
				password: 'long enough',
				invite_token: invite
			}
		);
		expect(ok.status).toBe(201);
		expect(ok.body.joined).toEqual({ workspace: ws.id, role: 'editor' });
		const list = await kim.get<{ workspaces: Array<{ id: string; role: string }> }>(
			'/api/workspaces'
		);
		expect(list.body.workspaces).toEqual([expect.objectContaining({ id: ws.id, role: 'editor' })]);
		await storage.close();
	});

	it('[AUTH8] API keys are random and stored as a hash', () => {
		const a = newApiKey();
		const b = newApiKey();
		expect(a).toMatch(/^ens_[A-Za-z0-9_-]{43}$/);
		expect(a).not.toBe(b);
		expect(hashApiKey(a)).toMatch(/^[0-9a-f]{64}$/);
		expect(hashApiKey(a)).toBe(hashApiKey(a));
		expect(hashApiKey(a)).not.toBe(hashApiKey(b));
	});

	it('[AUTH9] a state-changing request from another origin is refused', async () => {
		const s = await server();
		const client = s.client();
		await client.signup('Lu', email('Lu'));
		const reply = await client.request<ErrorReply>(
			'POST',
			'/api/workspaces',
			{ name: 'x' },
			{ origin: 'https://evil.example' }
		);
		expect(reply.status).toBe(403);
		expect(reply.body.error.code).toBe('bad_origin');
		const same = await client.request('POST', '/api/workspaces', { name: 'x' }, { origin: s.url });
		expect(same.status).toBe(201);
	});
});
