// Runs the Python debugger's unittest suite (clients/python/test_debugger.py) against a
// real server: the suite's server test signs in with the cookies and key made here.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTeam, startTestServer, type TestServer } from '../helpers/server.ts';
import { withDeadline } from '../helpers/wait.ts';

const CLIENT_DIR = fileURLToPath(new URL('../../clients/python/', import.meta.url));

let server: TestServer;

beforeEach(async () => {
	server = await startTestServer({ memory: true });
});

afterEach(async () => {
	await server.close();
});

describe('the Python debugger', () => {
	it('[DBG5] [DBG6] [DBG7] [DBG8] [DBG9] [DBG10] python3 -m unittest test_debugger passes against the real server', async () => {
		const team = await makeTeam(server);
		const viewer = await team.add('Pia', 'viewer');
		const key = await team.owner.post<{ key: string }>(
			`/api/workspaces/${team.workspace}/api-keys`,
			{ name: 'debugger tests' }
		);
		const child = spawn('python3', ['-m', 'unittest', '-v', 'test_debugger'], {
			cwd: CLIENT_DIR,
			stdio: ['ignore', 'pipe', 'pipe'],
			env: {
				...process.env,
				ENSEMBLE_TEST_URL: server.url,
				ENSEMBLE_TEST_WORKSPACE: team.workspace,
				ENSEMBLE_TEST_KEY: key.body.key,
				ENSEMBLE_TEST_OWNER_COOKIE: team.owner.cookie ?? '',
				ENSEMBLE_TEST_VIEWER_COOKIE: viewer.client.cookie ?? ''
			}
		});
		let output = '';
		child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
		child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
		const code = await withDeadline(
			new Promise<number | null>((resolve) => child.on('close', resolve)),
			'python3 -m unittest test_debugger',
			120_000
		).catch((err: unknown) => {
			child.kill('SIGKILL');
			console.log(output);
			throw err;
		});
		if (code !== 0) console.log(output);
		expect(output).toMatch(/Ran 8 tests/);
		expect(code).toBe(0);
	}, 150_000);
});
