// Setups for the contract suite: a temp directory per SQLite test, a fresh schema
// per PostgreSQL test (dropped after), so that parallel runs never collide.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { EnsembleStorage } from '../../server/storage/common.ts';
import { PostgresStorage } from '../../server/storage/postgres.ts';
import { SqliteStorage } from '../../server/storage/sqlite.ts';
import type { StorageSetup } from './contract.ts';

export const DATABASE_URL =
	process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function tempDir(): string {
	return mkdtempSync(join(tmpdir(), 'ensemble-storage-'));
}

export function sqliteSetup(
	writer: 'worker' | 'inline' = 'worker'
): Promise<StorageSetup & { dir: string }> {
	const dir = tempDir();
	const path = join(dir, 'ensemble.db');
	let current: EnsembleStorage = new SqliteStorage({ path, writer });
	return Promise.resolve({
		dir,
		storage: current,
		reopen: () => {
			current = new SqliteStorage({ path, writer });
			return Promise.resolve(current);
		},
		cleanup: async () => {
			await current.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});
}

export function freshSchema(): string {
	return `ens_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
}

export async function dropSchema(schema: string): Promise<void> {
	const client = new pg.Client({ connectionString: DATABASE_URL });
	await client.connect();
	try {
		await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
	} finally {
		await client.end();
	}
}

export async function postgresSetup(): Promise<StorageSetup & { schema: string }> {
	const schema = freshSchema();
	const open = () => PostgresStorage.open({ connectionString: DATABASE_URL, schema, poolSize: 4 });
	const opened: EnsembleStorage[] = [await open()];
	return {
		schema,
		storage: opened[0]!,
		reopen: async () => {
			const store = await open();
			opened.push(store);
			return store;
		},
		cleanup: async () => {
			for (const store of opened) await store.close();
			await dropSchema(schema);
		}
	};
}

/** Why PostgreSQL cannot be reached, or null when it can. */
export async function postgresUnreachable(): Promise<string | null> {
	const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
	try {
		await client.connect();
		await client.query('SELECT 1');
		return null;
	} catch (error) {
		return error instanceof Error ? error.message : String(error);
	} finally {
		await client.end().catch(() => undefined);
	}
}

const START = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';

/**
 * Null when PostgreSQL answers. Otherwise the reason, printed plainly with how to
 * start it (the suite is then skipped); with CI=true it throws, failing the run.
 */
export async function postgresGate(): Promise<string | null> {
	const unreachable = await postgresUnreachable();
	if (!unreachable) return null;
	const reason = `PostgreSQL not reachable at ${DATABASE_URL} (${unreachable}): start it with \`${START}\``;
	if (process.env.CI === 'true') throw new Error(`CI=true requires PostgreSQL. ${reason}`);
	console.warn(`\n*** Skipping a PostgreSQL storage suite. ${reason}\n`);
	return reason;
}
