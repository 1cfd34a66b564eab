// SWEEP3 across processes: two PostgreSQL stores (as two processes would have)
// and agents claiming a sweep's runs for "any" runner at once hand each out once;
// the server's sandbox takes one at a time per workspace while agents take others.

import { afterEach, describe, expect, it } from 'vitest';
import type { RunId, WorkspaceId } from '../../server/protocol/ids.ts';
import { PostgresStorage } from '../../server/storage/postgres.ts';
import type { ActiveRun } from '../../server/storage/types.ts';
import { DATABASE_URL, dropSchema, freshSchema, postgresGate } from '../storage/helpers.ts';

const reason = await postgresGate();

const row = (i: number): ActiveRun => ({
	workspace: 'w1' as WorkspaceId,
	run: `sweep-run-${i}` as RunId,
	runner: 'any',
	agent: '',
	state: 'queued',
	owner: '',
	claimedBy: '',
	queuedAt: i,
	heartbeatAt: 0,
	stopRequested: false,
	requeue: false,
	sweep: 's1'
});

describe.skipIf(reason !== null)(reason ?? 'sweep claims on PostgreSQL', () => {
	const stores: PostgresStorage[] = [];
	let schema = '';
	afterEach(async () => {
		for (const s of stores.splice(0)) await s.close();
		await dropSchema(schema);
	});

	it('[SWEEP3] servers and agents of two processes take every configuration once', async () => {
		schema = freshSchema();
		for (let i = 0; i < 2; i++)
			stores.push(
				await PostgresStorage.open({ connectionString: DATABASE_URL, schema, poolSize: 4 })
			);
		const [a, b] = stores as [PostgresStorage, PostgresStorage];
		for (let i = 0; i < 40; i++) await a.addActiveRun(row(i));
		const server = async (s: PostgresStorage, name: string): Promise<string[]> => {
			// A sandbox finishes each run before it takes the next (one per workspace).
			const got: string[] = [];
			for (;;) {
				const claimed = await s.claimRun({
					runners: ['builtin', 'server', 'any'],
					onePerWorkspace: true,
					claimedBy: `server:${name}`,
					owner: name,
					now: 1
				});
				if (!claimed) {
					if ((await s.listQueue()).some((r) => r.state === 'queued' && r.claimedBy === ''))
						continue;
					return got;
				}
				got.push(claimed.run);
				await s.markRunEnded(claimed.workspace, claimed.run);
			}
		};
		const agent = async (s: PostgresStorage, name: string): Promise<string[]> => {
			const got: string[] = [];
			for (;;) {
				const claimed = await s.claimRun({
					runners: ['agent', 'any'],
					workspace: 'w1' as WorkspaceId,
					agent: name,
					onePerWorkspace: false,
					claimedBy: `agent:${name}`,
					owner: '',
					now: 1
				});
				if (!claimed) return got;
				got.push(claimed.run);
			}
		};
		const results = await Promise.all([
			server(a, 'p1'),
			server(b, 'p2'),
			agent(a, 'gpu-1'),
			agent(b, 'gpu-2')
		]);
		const all = results.flat();
		console.log(
			`[SWEEP3] taken by p1, p2, gpu-1, gpu-2: ${results.map((r) => r.length).join(', ')}`
		);
		expect(all.length).toBe(40);
		expect(new Set(all).size).toBe(40);
		// The agents hold runs while the sandboxes keep taking others: both sides got work.
		expect(results[0].length + results[1].length).toBeGreaterThan(0);
		expect(results[2].length + results[3].length).toBeGreaterThan(0);
	});
});
