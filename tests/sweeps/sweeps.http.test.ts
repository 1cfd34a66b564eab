// Sweeps over HTTP on SQLite and PostgreSQL: a definition is checked, becomes one
// queued run per configuration, each handed out once; a lost run's configuration
// goes back into the sweep; stop withdraws the rest. Runs have unique names,
// can be renamed, and record who stopped them.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SweepProgress, SweepRecord } from '../../server/protocol/sweeps.ts';
import type { RunRecord } from '../../server/protocol/training.ts';
import { PostgresStorage } from '../../server/storage/postgres.ts';
import type { ErrorReply } from '../helpers/http.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { docReaches, type Peer } from '../helpers/yjs.ts';
import { DATABASE_URL, dropSchema, freshSchema, postgresGate } from '../storage/helpers.ts';
import {
	runOf,
	setWorkspace,
	statusReaches,
	watchLive,
	type StartBody
} from '../training/helpers.ts';

interface SweepBody {
	sweep: SweepRecord;
	progress: SweepProgress;
	runs: string[];
}

const pgReason = await postgresGate();

const backends = [
	{ name: 'SQLite', skip: null as string | null, pg: false },
	{ name: 'PostgreSQL', skip: pgReason, pg: true }
];

function sweepRuns(live: Peer, sweep: string): RunRecord[] {
	const out: RunRecord[] = [];
	for (const id of live.doc.getMap('runs').keys()) {
		const run = runOf(live.doc, id);
		if (run?.sweep === sweep) out.push(run);
	}
	return out;
}

describe.each(backends)('sweeps on $name', ({ skip, pg }) => {
	let server: TestServer;
	let team: Team;
	let schema = '';

	beforeEach(async (ctx) => {
		if (skip) return ctx.skip(skip);
		const storage = pg
			? await PostgresStorage.open({
					connectionString: DATABASE_URL,
					schema: (schema = freshSchema()),
					poolSize: 4
				})
			: undefined;
		server = await startTestServer({ ...(storage ? { storage } : {}), runnerLostAfterS: 2 });
		team = await makeTeam(server);
	});

	afterEach(async () => {
		await server?.close();
		if (schema) await dropSchema(schema);
		schema = '';
	});

	it('[SWEEP1] a definition is checked: unknown parameter, refused value, too many runs, roles', async () => {
		const ws = team.workspace;
		const base = { method: 'grid', metric: 'val_accuracy', goal: 'maximize', runner: 'builtin' };
		const refuse = async (body: unknown, status: number, message: RegExp) => {
			const reply = await team.owner.post<ErrorReply>(`/api/workspaces/${ws}/sweeps`, body);
			expect(reply.status).toBe(status);
			expect(reply.body.error.message).toMatch(message);
		};
		await refuse(
			{ ...base, parameters: { momentum_beta: { values: [0.9] } } },
			400,
			/Unknown parameter "momentum_beta".*learning_rate/
		);
		await refuse(
			{ ...base, parameters: { learning_rate: { values: [0.01, 20] } } },
			400,
			/learning_rate: 20 is refused \(learning_rate must be a number greater than 0 and at most 10\)/
		);
		await refuse(
			{ ...base, parameters: { validation_split: { min: 0.1, max: 0.95 } } },
			400,
			/validation_split: 0.95 is refused/
		);
		await refuse(
			{
				...base,
				parameters: {
					learning_rate: { min: 0.001, max: 0.1, scale: 'log', steps: 11 },
					hidden_units: { min: 4, max: 64, steps: 11 }
				}
			},
			400,
			/The grid has 121 configurations; a sweep may have at most 100/
		);
		await refuse(
			{ ...base, parameters: { optimizer: { min: 1, max: 2 } } },
			400,
			/optimizer takes one of a list of values, not a range/
		);
		await refuse(
			{ ...base, method: 'random', parameters: { learning_rate: { min: 0.01, max: 0.1 } } },
			400,
			/random search needs a count/
		);
		await refuse({ ...base, metric: 'f1', parameters: { epochs: { values: [1] } } }, 400, /metric/);
		const viewer = await team.add('Vera', 'viewer');
		const denied = await viewer.client.post<ErrorReply>(`/api/workspaces/${ws}/sweeps`, {
			...base,
			parameters: { epochs: { values: [1] } }
		});
		expect(denied.status).toBe(403);
		expect(denied.body.error.message).toMatch(/start_training/);
		expect(
			(await viewer.client.get<{ sweeps: unknown[] }>(`/api/workspaces/${ws}/sweeps`)).body
		).toEqual({ sweeps: [] });
	});

	it('[SWEEP2] a grid sweep on the built-in model runs every configuration once and names the best run', async () => {
		const ws = team.workspace;
		await setWorkspace(server, team.owner, ws, { epochs: 3, batch_size: 32 });
		const live = await watchLive(server, team.owner, ws);
		const started = await team.owner.post<SweepBody>(`/api/workspaces/${ws}/sweeps`, {
			name: 'lr and width',
			method: 'grid',
			parameters: { learning_rate: { values: [0.01, 0.1] }, hidden_units: { values: [4, 16] } },
			metric: 'val_accuracy',
			goal: 'maximize',
			runner: 'builtin'
		});
		expect(started.status).toBe(201);
		const id = started.body.sweep.id;
		expect(started.body.sweep).toMatchObject({ name: 'lr and width', total: 4, state: 'running' });
		await docReaches(
			live.doc,
			() => sweepRuns(live, id).filter((r) => r.status === 'completed').length === 4,
			'4 sweep runs completed',
			120_000
		);
		const runs = sweepRuns(live, id);
		expect(runs.map((r) => r.sweep_index).sort()).toEqual([0, 1, 2, 3]);
		const configs = runs.map((r) => `${r.params.learning_rate}/${r.params.hidden_units}`).sort();
		expect(configs).toEqual(['0.01/16', '0.01/4', '0.1/16', '0.1/4']);
		for (const run of runs) {
			expect(run.params.epochs).toBe(3);
			expect(run.code).toEqual(runs[0]!.code);
		}
		expect(new Set(runs.map((r) => r.name)).size).toBe(4);
		const best = runs.reduce((a, b) =>
			(b.summary.val_accuracy ?? -1) > (a.summary.val_accuracy ?? -1) ? b : a
		);
		const got = await team.owner.get<SweepBody>(`/api/workspaces/${ws}/sweeps/${id}`);
		expect(got.body.progress).toMatchObject({ total: 4, completed: 4, state: 'completed' });
		expect(got.body.progress.best?.value).toBe(best.summary.val_accuracy);
		expect(live.doc.getMap('sweeps').get(id)).toMatchObject({ id, total: 4 });
		live.destroy();
		// Four built-in trainings at a quarter of a core: 42-60 s measured with load average 25 on 2 cores.
	}, 150_000);

	it('[SWEEP3][SWEEP4][SWEEP5] agents each take a configuration once; a lost one goes back; stop withdraws the rest', async () => {
		const ws = team.workspace;
		await setWorkspace(server, team.owner, ws, {}, { 'train.py': 'print({"val_loss": 1})' });
		const live = await watchLive(server, team.owner, ws);
		const started = await team.owner.post<SweepBody>(`/api/workspaces/${ws}/sweeps`, {
			method: 'random',
			count: 6,
			seed: 7,
			parameters: { learning_rate: { min: 0.001, max: 0.1, scale: 'log' } },
			metric: 'val_loss',
			goal: 'minimize',
			runner: 'agent'
		});
		expect(started.status).toBe(201);
		const id = started.body.sweep.id;
		// Past the per-workspace queue limit (5): a sweep queues all its runs.
		expect(started.body.progress).toMatchObject({ total: 6, queued: 6 });

		// Three agents claim at once until nothing is left: every configuration once.
		const claimAll = async (agent: string): Promise<RunRecord[]> => {
			const got: RunRecord[] = [];
			for (;;) {
				const reply = await team.owner.post<{ run: RunRecord }>(
					`/api/workspaces/${ws}/agents/claim`,
					{ agent }
				);
				if (reply.status === 204) return got;
				expect(reply.status).toBe(200);
				got.push(reply.body.run);
				holder.set(reply.body.run.id, agent);
			}
		};
		const holder = new Map<string, string>();
		const claimed = (await Promise.all(['a', 'b', 'c'].map(claimAll))).flat();
		expect(claimed.map((r) => r.sweep_index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
		expect(new Set(claimed.map((r) => r.id)).size).toBe(6);

		// Two finish; the others keep heartbeating, except #0's agent, which goes silent.
		const [first, second, ...rest] = claimed.sort((x, y) => x.sweep_index! - y.sweep_index!);
		const finish = async (run: RunRecord, value: number) => {
			await team.owner.post(`/api/workspaces/${ws}/runs/${run.id}/metrics`, {
				points: [{ step: 1, values: { val_loss: value } }],
				agent: holder.get(run.id)
			});
			const done = await team.owner.post(`/api/workspaces/${ws}/runs/${run.id}/status`, {
				status: 'completed',
				agent: holder.get(run.id)
			});
			expect(done.status).toBe(200);
		};
		await finish(second!, 0.25);
		await finish(rest[0]!, 0.5);
		const beating = rest.slice(1);
		let beat = true;
		const beats = (async () => {
			while (beat) {
				for (const run of beating)
					void team.owner.post(`/api/workspaces/${ws}/runs/${run.id}/heartbeat`, {
						agent: holder.get(run.id)
					});
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
		})();
		await statusReaches(live, first!.id, 'lost', 15_000);
		const again = sweepRuns(live, id).find((r) => r.sweep_index === 0 && r.id !== first!.id);
		expect(again).toMatchObject({ status: 'queued', params: first!.params, requeue_of: first!.id });
		const mid = await team.owner.get<SweepBody>(`/api/workspaces/${ws}/sweeps/${id}`);
		expect(mid.body.progress).toMatchObject({ completed: 2, queued: 1, running: 3 });
		expect(mid.body.progress.best).toMatchObject({ run: second!.id, value: 0.25 });

		// A viewer watches but cannot stop; an editor stops it.
		const viewer = await team.add('Vera', 'viewer');
		const denied = await viewer.client.post<ErrorReply>(`/api/workspaces/${ws}/sweeps/${id}/stop`);
		expect(denied.status).toBe(403);
		const editor = await team.add('Eddie', 'editor');
		const stopped = await editor.client.post<SweepBody>(`/api/workspaces/${ws}/sweeps/${id}/stop`);
		expect(stopped.status).toBe(200);
		expect(stopped.body.sweep).toMatchObject({ state: 'stopped', stopped_by: { name: 'Eddie' } });
		expect(runOf(live.doc, again!.id)?.status ?? 'stopped').toBe('stopped');
		await statusReaches(live, again!.id, 'stopped');
		// The running ones are told at their next heartbeat.
		for (const run of beating) {
			const reply = await team.owner.post<{ stop: boolean }>(
				`/api/workspaces/${ws}/runs/${run.id}/heartbeat`,
				{ agent: holder.get(run.id) }
			);
			expect(reply.body.stop).toBe(true);
		}
		beat = false;
		await beats;
		const twice = await editor.client.post<ErrorReply>(`/api/workspaces/${ws}/sweeps/${id}/stop`);
		expect(twice.status).toBe(409);
		const list = await viewer.client.get<{ sweeps: SweepBody[] }>(`/api/workspaces/${ws}/sweeps`);
		expect(list.body.sweeps.map((s) => s.sweep.id)).toEqual([id]);
		expect(list.body.sweeps[0]!.progress.state).toBe('stopped');
		live.destroy();
	});

	it('[RUNNAME1][RUNNAME2][RUNNAME3] runs get unique names, can be renamed, and record who stopped them', async () => {
		const ws = team.workspace;
		const live = await watchLive(server, team.owner, ws);
		const start = () =>
			team.owner.post<StartBody>(`/api/workspaces/${ws}/runs`, { runner: 'agent', name: 'adam' });
		const a = await start();
		const b = await start();
		expect(a.body.run.name).toBe('adam');
		expect(b.body.run.name).toBe('adam #2');
		const rename = (id: string, name: string, client = team.owner) =>
			client.patch<{ run: RunRecord } & ErrorReply>(`/api/workspaces/${ws}/runs/${id}`, { name });
		expect((await rename(b.body.run.id, 'ADAM')).status).toBe(409);
		expect((await rename(b.body.run.id, '   ')).status).toBe(400);
		const renamed = await rename(b.body.run.id, ' wide net ');
		expect(renamed.status).toBe(200);
		expect(renamed.body.run.name).toBe('wide net');
		await docReaches(live.doc, () => runOf(live.doc, b.body.run.id)?.name === 'wide net', 'rename');
		const viewer = await team.add('Vera', 'viewer');
		expect((await rename(b.body.run.id, 'mine', viewer.client)).status).toBe(403);

		const editor = await team.add('Eddie', 'editor');
		const stop = await editor.client.post<{ run: RunRecord }>(
			`/api/workspaces/${ws}/runs/${a.body.run.id}/stop`
		);
		expect(stop.body.run).toMatchObject({
			status: 'stopped',
			started_by: { id: team.ownerId },
			stopped_by: { id: editor.id, name: 'Eddie' }
		});
		live.destroy();
	});
});
