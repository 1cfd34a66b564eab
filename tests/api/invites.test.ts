import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../server/auth/tokens.ts';
import { MemoryStorage } from '../../server/storage/memory.ts';
import {
	email,
	makeTeam,
	ManualClock,
	startTestServer,
	type TestServer
} from '../helpers/server.ts';
import type { ErrorReply } from '../helpers/http.ts';

let s: TestServer;
let storage: MemoryStorage;
let clock: ManualClock;
beforeEach(async () => {
	storage = new MemoryStorage();
	clock = new ManualClock();
	s = await startTestServer({ storage, clock });
});
afterEach(async () => {
	await s.close();
	await storage.close();
});

interface InviteBody {
	invite_token: string;
	invite_url: string;
	expires_at: string;
	emailed: boolean;
}

describe('invitations', () => {
	it('[INVITE1] an invitation returns a single-use token and link, stored only hashed', async () => {
		const team = await makeTeam(s);
		const reply = await team.owner.post<InviteBody>(`/api/workspaces/${team.workspace}/invite`, {
			email: 'Zed@Example.com',
			role: 'viewer'
		});
		expect(reply.status).toBe(200);
		const { invite_token, invite_url, expires_at, emailed } = reply.body;
		expect(invite_url).toBe(`${s.url}/workspace/${team.workspace}/join?token=${invite_token}`);
		expect(emailed).toBe(false);
		const days = (Date.parse(expires_at) - clock.now()) / 86_400_000;
		expect(days).toBeGreaterThan(6.99);
		expect(days).toBeLessThanOrEqual(7);
		expect(await storage.getInvite(invite_token)).toBeNull();
		expect(await storage.getInvite(hashToken(invite_token))).toMatchObject({
			workspace: team.workspace,
			role: 'viewer',
			email: 'zed@example.com'
		});
	});

	it('[INVITE1] the owner may choose another lifetime', async () => {
		const team = await makeTeam(s);
		const reply = await team.owner.post<InviteBody>(`/api/workspaces/${team.workspace}/invite`, {
			email: 'a@example.com',
			role: 'editor',
			expires_in_days: 1
		});
		expect(Math.round((Date.parse(reply.body.expires_at) - clock.now()) / 3_600_000)).toBe(24);
	});

	it('[INVITE3] joining adds the member with the invitation role', async () => {
		const team = await makeTeam(s);
		const token = await team.owner.invite(team.workspace, 'zed@example.com', 'editor');
		const zed = s.client();
		await zed.signup('Zed', email('Zed'));
		const joined = await zed.join(team.workspace, token);
		expect(joined.status).toBe(200);
		expect(joined.body).toEqual({ status: 'joined', role: 'editor' });
		const members = await zed.get<{ members: Array<{ name: string; role: string }> }>(
			`/api/workspaces/${team.workspace}/members`
		);
		expect(members.body.members).toContainEqual(
			expect.objectContaining({ name: 'Zed', role: 'editor' })
		);
	});

	it('[INVITE4] a used invitation is refused with invite_used', async () => {
		const team = await makeTeam(s);
		const token = await team.owner.invite(team.workspace, 'x@example.com', 'viewer');
		const first = s.client();
		await first.signup('First', email('First'));
		expect((await first.join(team.workspace, token)).status).toBe(200);
		const second = s.client();
		await second.signup('Second', email('Second'));
		const reused = await second.join(team.workspace, token);
		expect(reused.status).toBe(400);
		expect((reused.body as ErrorReply).error.code).toBe('invite_used');
		expect((reused.body as ErrorReply).error.message).toMatch(/already been used/);
	});

	it('[INVITE4] concurrent joins with one invitation: exactly one succeeds', async () => {
		const team = await makeTeam(s);
		const token = await team.owner.invite(team.workspace, 'x@example.com', 'viewer');
		const clients = await Promise.all(
			[1, 2, 3].map(async (i) => {
				const c = s.client();
				await c.signup(`P${i}`, email(`P${i}`));
				return c;
			})
		);
		const results = await Promise.all(clients.map((c) => c.join(team.workspace, token)));
		expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400]);
	});

	it('[INVITE4] an expired invitation is refused with invite_expired', async () => {
		const team = await makeTeam(s);
		const token = await team.owner.invite(team.workspace, 'x@example.com', 'viewer');
		clock.advance(7 * 86_400_000 + 1000);
		const late = s.client();
		await late.signup('Late', email('Late'));
		const reply = await late.join(team.workspace, token);
		expect(reply.status).toBe(400);
		expect((reply.body as ErrorReply).error.code).toBe('invite_expired');
	});

	it('[INVITE4] a forged or altered token is refused with invite_invalid', async () => {
		const team = await makeTeam(s);
		const token = await team.owner.invite(team.workspace, 'x@example.com', 'viewer');
		const mallory = s.client();
		await mallory.signup('Mallory', email('Mallory'));
		for (const forged of ['forged-token-forged-token-forged', token.slice(0, -2) + 'xx', 'short']) {
			const reply = await mallory.join(team.workspace, forged);
			expect(reply.status).toBe(400);
			expect((reply.body as ErrorReply).error.code).toBe('invite_invalid');
		}
		expect((await mallory.get(`/api/workspaces/${team.workspace}/members`)).status).toBe(403);
	});

	it("[INVITE4] another workspace's token is refused with invite_foreign", async () => {
		const a = await makeTeam(s, 'Ann');
		const b = await makeTeam(s, 'Ben');
		const tokenForA = await a.owner.invite(a.workspace, 'x@example.com', 'editor');
		const joiner = s.client();
		await joiner.signup('Jo', email('Jo'));
		const reply = await joiner.join(b.workspace, tokenForA);
		expect(reply.status).toBe(400);
		expect((reply.body as ErrorReply).error.code).toBe('invite_foreign');
		// Still usable where it belongs.
		expect((await joiner.join(a.workspace, tokenForA)).status).toBe(200);
	});

	it('[INVITE3] an owner who follows an invitation keeps their role', async () => {
		const team = await makeTeam(s);
		const token = await team.owner.invite(team.workspace, 'x@example.com', 'viewer');
		const reply = await team.owner.join(team.workspace, token);
		expect(reply.body).toEqual({ status: 'joined', role: 'owner' });
	});

	it('[INVITE1] only roles with invite_users may invite, and only as editor or viewer', async () => {
		const team = await makeTeam(s);
		const editor = await team.add('Ed', 'editor');
		const path = `/api/workspaces/${team.workspace}/invite`;
		expect(
			(await editor.client.post(path, { email: 'a@example.com', role: 'viewer' })).status
		).toBe(403);
		const owner = await team.owner.post<ErrorReply>(path, {
			email: 'a@example.com',
			role: 'owner'
		});
		expect(owner.status).toBe(400);
		expect(owner.body.error.message).toMatch(/role/);
	});

	it('[INVITE5] the join page learns the workspace, the inviter, the role and the e-mail from a valid token only, without signing in', async () => {
		const team = await makeTeam(s);
		const names = await team.owner.get<{ workspaces: Array<{ id: string; name: string }> }>(
			'/api/workspaces'
		);
		const name = names.body.workspaces.find((w) => w.id === team.workspace)?.name;
		const token = await team.owner.invite(team.workspace, 'Zoe@Example.com', 'editor');
		const stranger = s.client();
		const url = (t: string, ws = team.workspace) =>
			`/api/workspaces/${ws}/invite-preview?token=${encodeURIComponent(t)}`;
		const ok = await stranger.get<{
			workspace: { id: string; name: string };
			invited_by: string;
			role: string;
			email: string;
			expires_at: string;
		}>(url(token));
		expect(ok.status).toBe(200);
		expect(ok.body).toMatchObject({
			workspace: { id: team.workspace, name },
			invited_by: 'Olivia',
			role: 'editor',
			email: 'zoe@example.com'
		});
		// A forged token or another workspace reveals nothing, with the join's own words.
		const forged = await stranger.get<ErrorReply>(url(token.slice(0, -2) + 'xx'));
		expect(forged.status).toBe(400);
		expect(forged.body.error.code).toBe('invite_invalid');
		expect(JSON.stringify(forged.body)).not.toContain(String(name));
		const other = await makeTeam(s, 'Otto');
		const foreign = await stranger.get<ErrorReply>(url(token, other.workspace));
		expect(foreign.body.error.code).toBe('invite_foreign');
		// Once used it is refused as joining would be.
		const zoe = s.client();
		await zoe.signup('Zoe', 'zoe@example.com');
		expect((await zoe.join(team.workspace, token)).status).toBe(200);
		expect((await stranger.get<ErrorReply>(url(token))).body.error.code).toBe('invite_used');
	});
});
