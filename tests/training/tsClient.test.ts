import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnsembleClient, EnsembleError } from '../../clients/typescript/ensembleClient.ts';
import type { MetricPoint } from '../../server/protocol/training.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { connectPeer, docReaches, synced } from '../helpers/yjs.ts';
import { statusReaches, watchLive } from './helpers.ts';

let server: TestServer;
let team: Team;

beforeEach(async () => {
	server = await startTestServer({ memory: true });
	team = await makeTeam(server);
});

afterEach(async () => {
	await server.close();
});

describe('the TypeScript client', () => {
	it('[KEY3] reads params, reports a run in batches and finishes it; a revoked key throws 401', async () => {
		const ws = team.workspace;
		const created = await team.owner.post<{ key: string; api_key: { id: string } }>(
			`/api/workspaces/${ws}/api-keys`,
			{ name: 'ts' }
		);
		const client = new EnsembleClient({
			url: server.url,
			workspace: ws,
			apiKey: created.body.key,
			flushIntervalMs: 20
		});
		const hp = await client.hyperparameters();
		expect(hp.epochs).toBe(50);
		expect(Object.keys(await client.codeFiles())).toContain('train.py');

		const live = await watchLive(server, team.owner, ws);
		const run = await client.createRun({ name: 'ts run', params: hp, code: { 'a.ts': 'x' } });
		const watcher = await connectPeer(server, team.owner, ws, `run/${run.id}`);
		await synced(watcher);
		for (let step = 1; step <= 5; step++) run.log({ step, values: { loss: 1 / step } });
		const metrics = watcher.doc.getArray<MetricPoint>('metrics');
		await docReaches(watcher.doc, () => metrics.length === 5, 'five points');
		const done = await run.finish('completed');
		expect(done.status).toBe('completed');
		await statusReaches(live, run.id, 'completed');

		await team.owner.delete(`/api/workspaces/${ws}/api-keys/${created.body.api_key.id}`);
		await expect(client.hyperparameters()).rejects.toBeInstanceOf(EnsembleError);
		await expect(client.hyperparameters()).rejects.toMatchObject({
			status: 401,
			code: 'unauthenticated'
		});
		watcher.destroy();
		live.destroy();
	});
});
