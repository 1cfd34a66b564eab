import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../server/protocol/training.ts';
import type { ApiClient, ErrorReply, Reply } from '../helpers/http.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { connectPeer, docReaches, synced } from '../helpers/yjs.ts';
import { runOf, statusReaches, watchLive } from './helpers.ts';

let server: TestServer;
let team: Team;

beforeEach(async () => {
	server = await startTestServer({ memory: true });
	team = await makeTeam(server);
});

afterEach(async () => {
	await server.close();
});

interface KeyBody {
	key: string;
	api_key: { id: string; name: string; revoked_at: number | null };
}

async function createKey(client: ApiClient, ws: string, name: string): Promise<KeyBody> {
	const reply = await client.post<KeyBody>(`/api/workspaces/${ws}/api-keys`, { name });
	expect(reply.status).toBe(201);
	return reply.body;
}

function withKey<T>(key: string, method: string, path: string, body?: unknown): Promise<Reply<T>> {
	const headers: Record<string, string> = { authorization: `Bearer ${key}` };
	if (body !== undefined) headers['content-type'] = 'application/json';
	return fetch(server.url + path, {
		method,
		headers,
		body: body === undefined ? undefined : JSON.stringify(body)
	}).then(async (res) => ({
		status: res.status,
		body: (await res.json()) as T,
		headers: res.headers
	}));
}

describe('API keys and runs from scripts', () => {
	it('[KEY1] owners and editors create named keys, shown once and stored hashed; viewers cannot', async () => {
		const ws = team.workspace;
		const editor = await team.add('Ed', 'editor');
		const viewer = await team.add('Vi', 'viewer');
		const created = await createKey(editor.client, ws, 'gpu box');
		expect(created.key).toMatch(/^ens_[A-Za-z0-9_-]{43}$/);
		expect(created.api_key).toMatchObject({ name: 'gpu box', revoked_at: null });
		const list = await team.owner.get<{ api_keys: unknown[] }>(`/api/workspaces/${ws}/api-keys`);
		expect(list.body.api_keys).toHaveLength(1);
		expect(JSON.stringify(list.body)).not.toContain(created.key);
		const stored = await server.storage.listApiKeys(ws as never);
		expect(stored[0]?.keyHash).not.toContain(created.key.slice(4));
		expect(stored[0]?.keyHash).toMatch(/^[0-9a-f]{64}$/);
		const refused = await viewer.client.post<ErrorReply>(`/api/workspaces/${ws}/api-keys`, {
			name: 'x'
		});
		expect(refused.status).toBe(403);
	});

	it('[KEY3] a script reads params and code, creates a run, posts metrics a Yjs client sees, and fails with its last lines', async () => {
		const ws = team.workspace;
		const { key } = await createKey(team.owner, ws, 'laptop');
		const hp = await withKey<{ hyperparameters: Record<string, unknown> }>(
			key,
			'GET',
			`/api/workspaces/${ws}/hyperparameters`
		);
		expect(hp.status).toBe(200);
		expect(hp.body.hyperparameters.learning_rate).toBe(0.01);
		const code = await withKey<{ files: Record<string, string> }>(
			key,
			'GET',
			`/api/workspaces/${ws}/code`
		);
		expect(Object.keys(code.body.files)).toContain('train.py');

		const live = await watchLive(server, team.owner, ws);
		const created = await withKey<{
			run: { id: string; status: string; started_by: { id: string; name: string } };
		}>(key, 'POST', `/api/workspaces/${ws}/external-runs`, {
			name: 'notebook',
			params: { learning_rate: 0.1, epochs: 3 },
			code: { 'nb.py': 'print(1)\n' }
		});
		expect(created.status).toBe(201);
		const id = created.body.run.id;
		expect(created.body.run.started_by).toEqual({
			id: team.ownerId,
			name: 'Olivia (API key "laptop")'
		});
		await statusReaches(live, id, 'running');
		expect(runOf(live.doc, id)).toMatchObject({
			source: 'external',
			params: { learning_rate: 0.1, epochs: 3 },
			code: { 'nb.py': 'print(1)\n' }
		});

		const viewer = await team.add('Wanda', 'viewer');
		const watcher = await connectPeer(server, viewer.client, ws, `run/${id}`);
		await synced(watcher);
		const posted = await withKey<{ accepted: number }>(
			key,
			'POST',
			`/api/workspaces/${ws}/runs/${id}/metrics`,
			{
				points: [
					{ step: 1, values: { loss: 0.9, accuracy: 0.5 } },
					{ step: 2, values: { loss: 0.5, accuracy: 0.7 } },
					{ step: 5, kind: 'batch', values: { loss: 0.6 } }
				]
			}
		);
		expect(posted.status).toBe(202);
		expect(posted.body.accepted).toBe(3);
		const metrics = watcher.doc.getArray<MetricPoint>('metrics');
		await docReaches(watcher.doc, () => metrics.length === 3, 'three points');
		expect(metrics.get(1)).toMatchObject({
			kind: 'epoch',
			step: 2,
			values: { loss: 0.5, accuracy: 0.7 }
		});

		const failed = await withKey<{ run: { status: string; output: string[]; message: string } }>(
			key,
			'POST',
			`/api/workspaces/${ws}/runs/${id}/status`,
			{
				status: 'failed',
				message: 'exit code 1',
				output: ['Traceback (most recent call last):', 'ValueError: nan']
			}
		);
		expect(failed.status).toBe(200);
		expect(failed.body.run).toMatchObject({ status: 'failed', message: 'exit code 1' });
		expect(failed.body.run.output).toEqual([
			'Traceback (most recent call last):',
			'ValueError: nan'
		]);
		await statusReaches(live, id, 'failed');
		expect(runOf(live.doc, id)?.summary).toMatchObject({ loss: 0.5, accuracy: 0.7 });
		const late = await withKey<ErrorReply>(
			key,
			'POST',
			`/api/workspaces/${ws}/runs/${id}/metrics`,
			{
				points: [{ step: 3, values: { loss: 0.1 } }]
			}
		);
		expect(late.status).toBe(409);
		watcher.destroy();
		live.destroy();
	});

	it("[KEY2] a revoked or unknown key gets 401; another workspace's key 403; a key cannot manage keys", async () => {
		const ws = team.workspace;
		const { key, api_key } = await createKey(team.owner, ws, 'ci');
		expect((await withKey(key, 'GET', `/api/workspaces/${ws}/hyperparameters`)).status).toBe(200);
		const other = await team.owner.createWorkspace('Other');
		const foreign = await withKey<ErrorReply>(
			key,
			'GET',
			`/api/workspaces/${other.id}/hyperparameters`
		);
		expect(foreign.status).toBe(403);
		expect(foreign.body.error.message).toMatch(/another workspace/);
		const mint = await withKey<ErrorReply>(key, 'POST', `/api/workspaces/${ws}/api-keys`, {
			name: 'more'
		});
		expect(mint.status).toBe(403);

		expect((await team.owner.delete(`/api/workspaces/${ws}/api-keys/${api_key.id}`)).status).toBe(
			204
		);
		const revoked = await withKey<ErrorReply>(
			key,
			'POST',
			`/api/workspaces/${ws}/external-runs`,
			{}
		);
		expect(revoked.status).toBe(401);
		expect(revoked.body.error).toEqual({
			code: 'unauthenticated',
			message: 'The API key "ci" was revoked.'
		});
		const unknown = await withKey<ErrorReply>(
			'ens_' + 'x'.repeat(43),
			'GET',
			`/api/workspaces/${ws}/code`
		);
		expect(unknown.status).toBe(401);
		const listed = await team.owner.get<{ api_keys: Array<{ revoked_at: number | null }> }>(
			`/api/workspaces/${ws}/api-keys`
		);
		expect(listed.body.api_keys[0]?.revoked_at).toBeTypeOf('number');
	});
});
