// PostgreSQL specifics: several processes on one database (seqs, migrations).
// Each store here has its own pool and connections, as separate processes would.

import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../server/protocol/ids.ts';
import { LATEST_VERSION } from '../../server/storage/migrations.ts';
import { PostgresStorage } from '../../server/storage/postgres.ts';
import { record, room, uid } from './fixtures.ts';
import { DATABASE_URL, dropSchema, freshSchema, postgresGate } from './helpers.ts';

const reason = await postgresGate();

describe.skipIf(reason !== null)(reason ?? 'PostgreSQL with several processes', () => {
	const stores: PostgresStorage[] = [];
	const schemas: string[] = [];
	afterEach(async () => {
		for (const s of stores.splice(0)) await s.close();
		for (const schema of schemas.splice(0)) await dropSchema(schema);
	});

	const schema = (): string => {
		const s = freshSchema();
		schemas.push(s);
		return s;
	};
	const openStore = async (name: string): Promise<PostgresStorage> => {
		const s = await PostgresStorage.open({
			connectionString: DATABASE_URL,
			schema: name,
			poolSize: 3
		});
		stores.push(s);
		return s;
	};

	it('[STORE11] two processes appending to the same rooms get distinct, increasing seqs', async () => {
		const name = schema();
		const [a, b] = [await openStore(name), await openStore(name)];
		const w = uid('w') as WorkspaceId;
		const rooms = [room(w, 'params'), room(w, 'code'), room(w, 'live')];
		const calls: Array<Promise<number[]>> = [];
		for (let round = 0; round < 20; round++) {
			for (const [k, s] of [a, b].entries()) {
				// Each store writes the rooms in a different order within one batch.
				const order = k === 0 ? rooms : [...rooms].reverse();
				for (const r of order) calls.push(s.appendUpdates([record(r, round * 10 + k)]));
			}
			await new Promise((resolve) => setImmediate(resolve));
		}
		const seqs = await Promise.all(calls);
		for (const r of rooms) {
			const doc = await a.loadDoc(r);
			expect(doc.updates.map((u) => u.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
			expect(doc.lastSeq).toBe(40);
		}
		expect(new Set(seqs.flat()).size).toBe(40);
		expect(a.commitCount + b.commitCount).toBeGreaterThan(1);
	});

	it('[MIGRATE3] processes starting at once on an empty database apply each migration once', async () => {
		const name = schema();
		const opened = await Promise.all(Array.from({ length: 4 }, () => openStore(name)));
		expect(opened).toHaveLength(4);
		const client = new pg.Client({ connectionString: DATABASE_URL });
		await client.connect();
		try {
			const { rows } = await client.query(
				`SELECT version FROM ${name}.schema_migrations ORDER BY version`
			);
			expect(rows.map((r: { version: string }) => Number(r.version))).toEqual(
				Array.from({ length: LATEST_VERSION }, (_, i) => i + 1)
			);
		} finally {
			await client.end();
		}
		// And they all work on the same tables.
		const r = room(uid('w') as WorkspaceId);
		await Promise.all(opened.map((s, i) => s.appendUpdates([record(r, i)])));
		expect((await opened[0]!.loadDoc(r)).lastSeq).toBe(4);
	});

	it('[MIGRATE2] a schema written by a newer Ensemble is refused', async () => {
		const name = schema();
		const first = await openStore(name);
		await first.close();
		const client = new pg.Client({ connectionString: DATABASE_URL });
		await client.connect();
		try {
			await client.query(
				`INSERT INTO ${name}.schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)`,
				[LATEST_VERSION + 1]
			);
		} finally {
			await client.end();
		}
		await expect(openStore(name)).rejects.toThrow(/newer than this Ensemble knows/);
	});

	it("[STORE4] a commit stuck behind another process's lock fails after the statement timeout, and its callers are told", async () => {
		const name = schema();
		const s = await PostgresStorage.open({
			connectionString: DATABASE_URL,
			schema: name,
			statementTimeoutMs: 300
		});
		stores.push(s);
		const r = room(uid('w') as WorkspaceId);
		await s.appendUpdates([record(r, 1)]);
		// Another process holds the room's row lock and does not let go.
		const other = new pg.Client({ connectionString: DATABASE_URL });
		await other.connect();
		try {
			await other.query('BEGIN');
			await other.query(`SELECT 1 FROM ${name}.rooms WHERE room = $1 FOR UPDATE`, [r]);
			const stuck = await Promise.allSettled([
				s.appendUpdates([record(r, 2)]),
				s.appendUpdates([record(r, 3)])
			]);
			expect(stuck.map((x) => x.status)).toEqual(['rejected', 'rejected']);
			expect(String((stuck[0] as PromiseRejectedResult).reason)).toMatch(/statement timeout/);
			await other.query('ROLLBACK');
		} finally {
			await other.end();
		}
		expect(await s.appendUpdates([record(r, 4)])).toEqual([2]);
	});

	it('[STORE9] a store whose database went away reports unhealthy and rejects appends', async () => {
		const name = schema();
		const s = await openStore(name);
		await dropSchema(name);
		expect(await s.healthy()).toBe(false);
		const r = room(uid('w') as WorkspaceId);
		await expect(s.appendUpdates([record(r, 1)])).rejects.toThrow(/could not store 1 update/);
		expect(s.failedCommits).toBe(1);
		const unreachable = await PostgresStorage.open({
			connectionString: 'postgres://postgres@127.0.0.1:1/test',
			schema: name
		}).catch((error: unknown) => error);
		expect(unreachable).toBeInstanceOf(Error);
	});
});
