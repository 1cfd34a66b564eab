import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTeam, startTestServer, type TestServer } from '../helpers/server.ts';
import { startFakeSmtp, type FakeSmtp } from '../helpers/smtp.ts';
import { withDeadline } from '../helpers/wait.ts';

let servers: TestServer[] = [];
let smtp: FakeSmtp | null = null;
let dirs: string[] = [];
afterEach(async () => {
	await Promise.all(servers.map((s) => s.close()));
	servers = [];
	await smtp?.close();
	smtp = null;
	await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
	dirs = [];
});

interface InviteBody {
	invite_url: string;
	emailed: boolean;
}

describe('invitation e-mail', () => {
	it('[INVITE2] with SMTP_URL the invitation link is e-mailed', async () => {
		smtp = await startFakeSmtp();
		const s = await startTestServer({
			memory: true,
			smtpUrl: smtp.url,
			publicUrl: 'https://ensemble.example.com'
		});
		servers.push(s);
		const team = await makeTeam(s);
		const mail = withDeadline(smtp.nextMessage(), 'the invitation e-mail');
		const reply = await team.owner.post<InviteBody>(`/api/workspaces/${team.workspace}/invite`, {
			email: 'guest@example.com',
			role: 'editor'
		});
		expect(reply.status).toBe(200);
		expect(reply.body.emailed).toBe(true);
		expect(reply.body.invite_url).toMatch(
			/^https:\/\/ensemble\.example\.com\/workspace\/.+\/join\?token=/
		);
		const message = (await mail).replace(/=\n/g, '');
		expect(message).toMatch(/^To: guest@example.com$/m);
		expect(message).toContain(reply.body.invite_url.replace(/=/g, '=3D'));
	});

	it('[INVITE2] when sending fails the link is still returned, with emailed: false', async () => {
		smtp = await startFakeSmtp();
		const url = smtp.url;
		await smtp.close();
		smtp = null;
		const s = await startTestServer({ memory: true, smtpUrl: url });
		servers.push(s);
		const team = await makeTeam(s);
		const reply = await team.owner.post<InviteBody>(`/api/workspaces/${team.workspace}/invite`, {
			email: 'guest@example.com',
			role: 'viewer'
		});
		expect(reply.status).toBe(200);
		expect(reply.body.emailed).toBe(false);
		expect(reply.body.invite_url).toContain('/join?token=');
	});
});

describe('the built app', () => {
	it('[API1] is served with an SPA fallback; /api stays JSON', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'ensemble-build-'));
		dirs.push(dir);
		await writeFile(join(dir, 'index.html'), '<!doctype html><title>Ensemble</title>');
		await writeFile(join(dir, 'app.js'), 'console.log(1)');
		const s = await startTestServer({ memory: true, staticDir: dir });
		servers.push(s);
		const client = s.client();
		const root = await client.get<string>('/');
		expect(root.status).toBe(200);
		expect(root.body).toContain('<title>Ensemble</title>');
		const deep = await client.get<string>('/workspace/abc/join?token=x');
		expect(deep.status).toBe(200);
		// The join page's token must not leak to other sites as a Referer.
		expect(deep.headers.get('referrer-policy')).toBe('same-origin');
		expect(deep.headers.get('x-content-type-options')).toBe('nosniff');
		expect(deep.headers.get('content-type')).toMatch(/text\/html/);
		expect(deep.body).toContain('<title>Ensemble</title>');
		expect((await client.get<string>('/app.js')).body).toBe('console.log(1)');
		const api = await client.get<{ error: { code: string } }>('/api/nope');
		expect(api.status).toBe(404);
		expect(api.body.error.code).toBe('not_found');
	});
});
