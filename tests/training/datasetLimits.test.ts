// Data sets cost what they must (issue 19): listing does not read or parse the
// uploads again, and each workspace's uploads share a quota.

import { afterEach, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../server/protocol/ids.ts';
import { MemoryStorage } from '../../server/storage/memory.ts';
import type { ErrorReply } from '../helpers/http.ts';
import { makeTeam, startTestServer, type TestServer } from '../helpers/server.ts';
import { upload } from './helpers.ts';

/** A real in-memory store that counts reads of data set contents. */
class CountingStorage extends MemoryStorage {
	contentReads = 0;
	override getDataset(workspace: WorkspaceId, id: string) {
		this.contentReads++;
		return super.getDataset(workspace, id);
	}
}

function csv(rows: number, seed: number): string {
	const lines = ['a,b,label'];
	for (let i = 0; i < rows; i++) lines.push(`${i + seed},${(i * 7) % 13},${i % 2 ? 'x' : 'y'}`);
	return lines.join('\n') + '\n';
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(options: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
	const s = await startTestServer(options);
	cleanups.push(() => s.close());
	return s;
}

interface ListBody {
	datasets: Array<{ id: string; rows: number; columns: Array<{ name: string; type: string }> }>;
}

describe('data set limits', { timeout: 90_000 }, () => {
	it('[SEC7] listing 20 uploads reads and parses none of them again, and still says rows and column types', async () => {
		const storage = new CountingStorage();
		cleanups.push(() => storage.close());
		const s = await server({ storage });
		const team = await makeTeam(s);
		const ws = team.workspace;
		// More uploads than parsed tables are kept (16): the report had 24.
		for (let i = 0; i < 20; i++) {
			expect((await upload(s, team.owner, ws, `part${i}.csv`, csv(50 + i, i))).status).toBe(201);
		}
		storage.contentReads = 0;
		for (let round = 0; round < 2; round++) {
			const list = await team.owner.get<ListBody>(`/api/workspaces/${ws}/datasets`);
			expect(list.status).toBe(200);
			expect(list.body.datasets).toHaveLength(21);
			expect(list.body.datasets.slice(1).map((d) => d.rows)).toEqual(
				Array.from({ length: 20 }, (_, i) => 50 + i)
			);
			expect(list.body.datasets[1]?.columns.map((c) => c.type)).toEqual([
				'number',
				'number',
				'text'
			]);
		}
		expect(storage.contentReads).toBe(0);
	});

	it('[SEC7] uploads past the workspace quota (DATASET_QUOTA_MB) are refused with 413 and a message; deleting makes room', async () => {
		const [first, second] = [csv(100, 0), csv(100, 1)];
		// Room for two files, not three.
		const quota = Buffer.byteLength(first) + Buffer.byteLength(second) + 10;
		const s = await server({ memory: true, datasetQuotaBytes: quota });
		const team = await makeTeam(s);
		const ws = team.workspace;
		const up = await upload(s, team.owner, ws, 'one.csv', first);
		expect(up.status).toBe(201);
		expect((await upload(s, team.owner, ws, 'two.csv', second)).status).toBe(201);
		const over = await upload(s, team.owner, ws, 'three.csv', csv(100, 2));
		expect(over.status).toBe(413);
		const body = over.body as ErrorReply;
		expect(body.error.code).toBe('quota_exceeded');
		expect(body.error.message).toMatch(/three\.csv: this workspace's data sets would take/);
		expect(body.error.message).toMatch(/DATASET_QUOTA_MB/);
		// Nothing of it was stored; another workspace has its own quota.
		const list = await team.owner.get<ListBody>(`/api/workspaces/${ws}/datasets`);
		expect(list.body.datasets).toHaveLength(3);
		const other = (await team.owner.createWorkspace('Other')).id;
		expect((await upload(s, team.owner, other, 'three.csv', csv(100, 2))).status).toBe(201);
		// Deleting one makes room.
		const id = (up.body as { dataset: { id: string } }).dataset.id;
		expect((await team.owner.delete(`/api/workspaces/${ws}/datasets/${id}`)).status).toBe(204);
		expect((await upload(s, team.owner, ws, 'three.csv', csv(100, 2))).status).toBe(201);
	});
});
