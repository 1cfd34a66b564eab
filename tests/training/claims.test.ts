// The stored run queue on PostgreSQL: two stores (as two processes would have)
// claiming at once hand each run out exactly once, oldest first, one per workspace
// for server runs; a lost run is taken by one sweeper only.

import { afterEach, describe, expect, it } from 'vitest';
import type { RunId, WorkspaceId } from '../../server/protocol/ids.ts';
import { PostgresStorage } from '../../server/storage/postgres.ts';
import type { ActiveRun, ClaimQuery } from '../../server/storage/types.ts';
import { DATABASE_URL, dropSchema, freshSchema, postgresGate } from '../storage/helpers.ts';

const reason = await postgresGate();

function queued(
	workspace: string,
	run: string,
	at: number,
	runner: ActiveRun['runner']
): ActiveRun {
	return {
		workspace: workspace as WorkspaceId,
		run: run as RunId,
		runner,
		agent: '',
		state: 'queued',
		owner: '',
		claimedBy: '',
		queuedAt: at,
		heartbeatAt: 0,
		stopRequested: false,
		requeue: false
	};
}

describe.skipIf(reason !== null)(reason ?? 'the run queue on PostgreSQL', () => {
	const stores: PostgresStorage[] = [];
	let schema = '';
	afterEach(async () => {
		for (const s of stores.splice(0)) await s.close();
		await dropSchema(schema);
	});

	it('[RUNQ6] two processes claiming at once get every agent run once; server runs one per workspace', async () => {
		schema = freshSchema();
		for (let i = 0; i < 2; i++)
			stores.push(
				await PostgresStorage.open({ connectionString: DATABASE_URL, schema, poolSize: 4 })
			);
		const [a, b] = stores as [PostgresStorage, PostgresStorage];
		for (let i = 0; i < 30; i++) await a.addActiveRun(queued('w1', `agent-${i}`, i, 'agent'));
		for (let i = 0; i < 4; i++)
			await a.addActiveRun(queued(`s${i % 2}`, `server-${i}`, i, 'server'));
		const claim = (s: PostgresStorage, by: string, q: Partial<ClaimQuery>) =>
			s.claimRun({
				runners: ['agent'],
				onePerWorkspace: false,
				claimedBy: by,
				owner: by,
				now: 1,
				...q
			});
		const claimAll = async (s: PostgresStorage, by: string): Promise<string[]> => {
			const got: string[] = [];
			for (;;) {
				const row = await claim(s, by, { workspace: 'w1' as WorkspaceId, agent: by });
				if (!row) return got;
				got.push(row.run);
			}
		};
		const results = await Promise.all([
			claimAll(a, 'x'),
			claimAll(b, 'y'),
			claimAll(a, 'z'),
			claimAll(b, 'v')
		]);
		const all = results.flat();
		expect(all.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `agent-${i}`).sort());
		expect(new Set(all).size).toBe(30);

		// Server runs: at most one running per workspace, whoever claims.
		const local = await Promise.all(
			[a, b, a, b].map((s, i) =>
				claim(s, `p${i}`, { runners: ['server', 'builtin'], onePerWorkspace: true })
			)
		);
		const claimed = local.filter((r) => r !== null);
		expect(claimed.map((r) => r.workspace).sort()).toEqual(['s0', 's1']);
		expect(claimed.map((r) => r.run).sort()).toEqual(['server-0', 'server-1']);

		// A silent run is taken by one sweeper, not both.
		const swept = await Promise.all([a.takeStaleRuns(2), b.takeStaleRuns(2)]);
		expect(swept.flat().length).toBe(32);
		expect((await a.listQueue()).map((r) => r.run).sort()).toEqual(['server-2', 'server-3']);
	});
});
