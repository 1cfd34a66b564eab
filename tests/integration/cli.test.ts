import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import type { UserBody } from '../helpers/http.ts';
import { withDeadline } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function ensemble(dataDir: string, args: string[], stdin?: string) {
	return withDeadline(
		new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
			const child = spawn(`${ROOT}node_modules/.bin/node`, ['server/cli.ts', ...args], {
				cwd: ROOT,
				env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir },
				stdio: ['pipe', 'pipe', 'pipe']
			});
			let stdout = '';
			let stderr = '';
			child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
			child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
			child.stdin.end(stdin ?? '');
			child.on('exit', (code) => resolve({ code, stdout, stderr }));
		}),
		`ensemble ${args[0] ?? ''}`,
		15_000
	);
}

let dirs: string[] = [];
let servers: TestServer[] = [];
async function dir(): Promise<string> {
	const d = await mkdtemp(join(tmpdir(), 'ensemble-cli-'));
	dirs.push(d);
	return d;
}
afterEach(async () => {
	await Promise.all(servers.map((s) => s.close()));
	servers = [];
	await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
	dirs = [];
});

describe('the ensemble command', () => {
	it('[CLI1] create-user and reset-password make accounts that sign in', async () => {
		const data = await dir();
		const created = await ensemble(
			data,
			['create-user', 'ops@example.com', 'Ops', '--password-stdin'],
			'first password\n'
		);
		expect(created.code, created.stderr).toBe(0);
		expect(created.stdout).toMatch(/created ops@example.com/);
		const generated = await ensemble(data, ['create-user', 'gen@example.com', 'Gen']);
		const password = /password: (\S+)/.exec(generated.stdout)?.[1] ?? '';
		expect(password.length).toBeGreaterThanOrEqual(12);
		const again = await ensemble(
			data,
			['create-user', 'OPS@example.com', 'Dup', '--password-stdin'],
			'another one\n'
		);
		expect(again.code).toBe(2);
		expect(again.stderr).toMatch(/already exists/);

		const s = await startTestServer({ dataDir: data });
		servers.push(s);
		const login = (email: string, pw: string) =>
			s.client().post<UserBody>('/api/auth/login', { email, password: pw });
		expect((await login('ops@example.com', 'first password')).status).toBe(200);
		expect((await login('gen@example.com', password)).status).toBe(200);
		const reset = await ensemble(
			data,
			['reset-password', 'ops@example.com', '--password-stdin'],
			'second password\n'
		);
		expect(reset.code, reset.stderr).toBe(0);
		expect((await login('ops@example.com', 'first password')).status).toBe(401);
		expect((await login('ops@example.com', 'second password')).status).toBe(200);
	});

	it('[CLI2] list, export, import, compact, backup and restore', async () => {
		const data = await dir();
		const s = await startTestServer({ dataDir: data });
		const owner = s.client();
		await owner.signup('Olivia', 'olivia@example.com');
		const ws = await owner.createWorkspace('Exported');
		await s.close();

		const list = await ensemble(data, ['list-workspaces']);
		expect(list.stdout).toContain(`${ws.id}\tExported\t1 members`);
		const members = await ensemble(data, ['list-members', ws.id]);
		expect(members.stdout).toMatch(/owner\tolivia@example.com\tOlivia/);
		const file = join(data, 'export.json');
		const exported = await ensemble(data, ['export', ws.id, file]);
		expect(exported.code, exported.stderr).toBe(0);
		const imported = await ensemble(data, ['import', file, '--as', 'copyOfExported']);
		expect(imported.code, imported.stderr).toBe(0);
		const compacted = await ensemble(data, ['compact']);
		expect(compacted.code, compacted.stderr).toBe(0);
		expect(compacted.stdout).toMatch(/compacted [1-9]\d* documents/);
		const backupFile = join(data, 'backup.db');
		const backup = await ensemble(data, ['backup', backupFile]);
		expect(backup.code, backup.stderr).toBe(0);

		const fresh = await dir();
		const restored = await ensemble(fresh, ['restore', backupFile]);
		expect(restored.code, restored.stderr).toBe(0);
		const back = await startTestServer({ dataDir: fresh });
		servers.push(back);
		const client = back.client();
		expect(
			(
				await client.post('/api/auth/login', {
					email: 'olivia@example.com',
					password: 'correct horse battery'
				})
			).status
		).toBe(200);
		const workspaces = await client.get<{ workspaces: Array<{ id: string }> }>('/api/workspaces');
		expect(workspaces.body.workspaces.map((w) => w.id).sort()).toEqual(
			[ws.id, 'copyOfExported'].sort()
		);
		const state = await client.get<{ state: { hyperparameters: Record<string, unknown> } }>(
			'/api/workspaces/copyOfExported/state'
		);
		expect(state.body.state.hyperparameters.learning_rate).toBe(0.01);
	});

	it('[XFER3] import refuses a hand-edited export naming the bad entry, and stores nothing', async () => {
		const data = await dir();
		const s = await startTestServer({ dataDir: data });
		const owner = s.client();
		await owner.signup('Olivia', 'olivia@example.com');
		const ws = await owner.createWorkspace('Exported');
		await s.close();
		const file = join(data, 'export.json');
		expect((await ensemble(data, ['export', ws.id, file])).code).toBe(0);
		const exported = JSON.parse(await readFile(file, 'utf8')) as {
			documents: Array<{ doc: string }>;
		};
		const first = exported.documents[0];
		if (!first) throw new Error('the export has no documents');
		first.doc = 'run/../../params';
		await writeFile(file, JSON.stringify(exported));
		const refused = await ensemble(data, ['import', file, '--as', 'edited']);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(
			/documents\[0\]\.doc "run\/\.\.\/\.\.\/params" is not a document name/
		);
		const list = await ensemble(data, ['list-workspaces']);
		expect(list.stdout).not.toContain('edited');
	});

	it('[CLI3] usage errors exit 2 with a message', async () => {
		const data = await dir();
		const bad = await ensemble(data, ['list-members', 'no such id!']);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toMatch(/WORKSPACE/);
		const unknown = await ensemble(data, ['frobnicate']);
		expect(unknown.code).toBe(2);
		const help = await ensemble(data, ['--help']);
		expect(help.stdout).toMatch(/create-user/);
	});
});
