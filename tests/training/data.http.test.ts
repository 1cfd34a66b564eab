import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorReply } from '../helpers/http.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { schema } from '../../server/protocol/docs.ts';
import { docReaches } from '../helpers/yjs.ts';
import { setWorkspace, statusReaches, upload, watchLive, type StartBody } from './helpers.ts';

let server: TestServer;
let team: Team;

beforeEach(async () => {
	server = await startTestServer({ memory: true });
	team = await makeTeam(server);
});

afterEach(async () => {
	await server.close();
});

interface DatasetBody {
	dataset: {
		id: string;
		name: string;
		rows: number;
		columns: Array<{ name: string; type: string }>;
		default_target: string;
	};
}

/** Two separable classes, 40 rows. */
function goodCsv(): string {
	const lines = ['height,weight,kind'];
	for (let i = 0; i < 20; i++) lines.push(`${1 + i * 0.01},${2 + i * 0.02},small`);
	for (let i = 0; i < 20; i++) lines.push(`${5 + i * 0.01},${9 + i * 0.02},large`);
	return lines.join('\n') + '\n';
}

describe('data sets', () => {
	it('[DATA1][DATA3][DATA4] an uploaded CSV is listed, previewed with typed columns, and trains on its target', async () => {
		const ws = team.workspace;
		const up = await upload(server, team.owner, ws, 'animals.csv', goodCsv());
		expect(up.status).toBe(201);
		const { dataset } = up.body as DatasetBody;
		expect(dataset).toMatchObject({ name: 'animals.csv', rows: 40, default_target: 'kind' });
		expect(dataset.columns).toEqual([
			{ name: 'height', type: 'number', distinct: 40 },
			{ name: 'weight', type: 'number', distinct: 40 },
			{ name: 'kind', type: 'text', distinct: 2 }
		]);

		const list = await team.owner.get<{ datasets: Array<{ id: string; bundled: boolean }> }>(
			`/api/workspaces/${ws}/datasets`
		);
		expect(list.body.datasets.map((d) => [d.id, d.bundled])).toEqual([
			['iris', true],
			[dataset.id, false]
		]);
		const preview = await team.owner.get<{ sample: unknown[][] }>(
			`/api/workspaces/${ws}/datasets/${dataset.id}?rows=2`
		);
		expect(preview.body.sample).toEqual([
			[1, 2, 'small'],
			[1.01, 2.02, 'small']
		]);
		const iris = await team.owner.get<DatasetBody & { sample: unknown[][] }>(
			`/api/workspaces/${ws}/datasets/iris`
		);
		expect(iris.body.dataset.columns.map((c) => c.name)).toEqual([
			'sepal_length',
			'sepal_width',
			'petal_length',
			'petal_width',
			'species'
		]);
		expect(iris.body.sample).toHaveLength(20);

		await setWorkspace(server, team.owner, ws, { epochs: 30, validation_split: 0.25 });
		const live = await watchLive(server, team.owner, ws);
		const run = await team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`, {
			runner: 'builtin',
			dataset: dataset.id,
			target: 'kind'
		});
		expect(run.status).toBe(201);
		expect(run.body.run.dataset).toEqual({ id: dataset.id, name: 'animals.csv' });
		await statusReaches(live, run.body.run.id, 'completed');
		const wrongTarget = await team.owner.post<ErrorReply>(`/api/workspaces/${ws}/runs`, {
			runner: 'builtin',
			dataset: dataset.id,
			target: 'height'
		});
		expect(wrongTarget.status).toBe(400);
		expect(wrongTarget.body.error.message).toMatch(
			/column 'kind' holds text, so it can only be the target/
		);
		live.destroy();
	});

	it('[DATA2] bad CSVs are refused with a message that says what and where', async () => {
		const ws = team.workspace;
		const cases: Array<[string, string | Uint8Array, RegExp]> = [
			['empty.csv', '', /empty\.csv: the file is empty/],
			['noheader.csv', '1,2,3\n4,5,6\n', /line 1 looks like data, not a header/],
			['ragged.csv', 'a,b,c\n1,2,x\n3,4\n', /line 3 has 2 fields but the header has 3 columns/],
			['text.csv', 'a,b,c\n1,2,x\n3,zz,y\n5,6,z\n', /line 3, column 'b': 'zz' is not a number/],
			['big.csv', 'a,b\n' + '1,2\n'.repeat(3_000_000), /too large/]
		];
		for (const [name, content, message] of cases) {
			const reply = await upload(server, team.owner, ws, name, content);
			expect(reply.status, name).toBeOneOf([400, 413]);
			expect((reply.body as ErrorReply).error.message, name).toMatch(message);
		}
		const wrongField = await upload(server, team.owner, ws, 'a.csv', goodCsv(), 'data');
		expect(wrongField.status).toBe(400);
		expect((wrongField.body as ErrorReply).error.message).toMatch(/field "file"/);
		const list = await team.owner.get<{ datasets: unknown[] }>(`/api/workspaces/${ws}/datasets`);
		expect(list.body.datasets).toHaveLength(1);
	});

	it('[DATA1] a viewer cannot upload', async () => {
		const viewer = await team.add('Vi', 'viewer');
		const reply = await upload(server, viewer.client, team.workspace, 'a.csv', goodCsv());
		expect(reply.status).toBe(403);
		expect((reply.body as ErrorReply).error.message).toMatch(/upload_data/);
	});

	it('[DATA6] uploads and deletions reach every open page through live; a data set in use is not deleted', async () => {
		const ws = team.workspace;
		const editor = await team.add('Ed', 'editor');
		const viewer = await team.add('Vi', 'viewer');
		const live = await watchLive(server, team.owner, ws);
		const listed = () => live.doc.getMap(schema.live.datasets).toJSON();
		const up = await upload(server, editor.client, ws, 'animals.csv', goodCsv());
		const { dataset } = up.body as DatasetBody;
		await docReaches(live.doc, () => dataset.id in listed(), 'the upload in live');
		expect(listed()[dataset.id]).toMatchObject({ name: 'animals.csv', rows: 40 });

		// Many epochs: the run is still queued or running when the deletion is asked.
		await setWorkspace(server, team.owner, ws, { epochs: 5000 });
		const run = await team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`, {
			dataset: dataset.id,
			target: 'kind'
		});
		expect(run.status).toBe(201);
		const inUse = await editor.client.delete<ErrorReply>(
			`/api/workspaces/${ws}/datasets/${dataset.id}`
		);
		expect(inUse.status).toBe(409);
		expect(inUse.body.error.code).toBe('conflict');
		expect(inUse.body.error.message).toMatch(/used by .*stop it or wait/);
		const denied = await viewer.client.delete<ErrorReply>(
			`/api/workspaces/${ws}/datasets/${dataset.id}`
		);
		expect(denied.status).toBe(403);

		await team.owner.post(`/api/workspaces/${ws}/runs/${run.body.run.id}/stop`, {});
		await statusReaches(live, run.body.run.id, 'stopped');
		const gone = await editor.client.delete(`/api/workspaces/${ws}/datasets/${dataset.id}`);
		expect(gone.status).toBe(204);
		await docReaches(live.doc, () => !(dataset.id in listed()), 'the deletion in live');
		const list = await team.owner.get<{ datasets: Array<{ id: string }> }>(
			`/api/workspaces/${ws}/datasets`
		);
		expect(list.body.datasets.map((d) => d.id)).toEqual(['iris']);
		expect((await editor.client.delete(`/api/workspaces/${ws}/datasets/iris`)).status).toBe(400);
		live.destroy();
	});
});
