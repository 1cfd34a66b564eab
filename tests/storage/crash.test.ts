// Durability across a crash: an update whose append has resolved is stored, even
// if the process is killed (SIGKILL) right after.

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../server/protocol/ids.ts';
import type { EnsembleStorage } from '../../server/storage/common.ts';
import { PostgresStorage } from '../../server/storage/postgres.ts';
import { SqliteStorage } from '../../server/storage/sqlite.ts';
import { record, room } from './fixtures.ts';
import { DATABASE_URL, dropSchema, freshSchema, postgresGate, tempDir } from './helpers.ts';

const NODE = join(process.cwd(), 'node_modules/.bin/node');
const CHILD = join(import.meta.dirname, 'crash-child.ts');
const ACKNOWLEDGED = 300;
const reason = await postgresGate();

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
	for (const c of cleanups.splice(0)) await c();
});

/** Runs the child until it has printed ACKNOWLEDGED seqs, kills it, returns seq → record number. */
async function appendThenKill(args: string[]): Promise<Map<number, number>> {
	const child = spawn(NODE, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	let stderr = '';
	child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
	const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
		child.on('exit', (code, signal) => resolve(signal ?? code))
	);
	const acknowledged = new Map<number, number>();
	for await (const line of createInterface({ input: child.stdout })) {
		const [seq, id] = line.split(' ').map(Number);
		if (seq === undefined || id === undefined || Number.isNaN(seq)) break;
		acknowledged.set(seq, id);
		if (acknowledged.size >= ACKNOWLEDGED) {
			child.kill('SIGKILL');
			break;
		}
	}
	expect(await exited, stderr).toBe('SIGKILL');
	expect(acknowledged.size).toBe(ACKNOWLEDGED);
	return acknowledged;
}

async function expectAllThere(store: EnsembleStorage, acknowledged: Map<number, number>) {
	const r = room('crash' as WorkspaceId);
	const doc = await store.loadDoc(r);
	const stored = new Map(doc.updates.map((u) => [u.seq, u]));
	for (const [seq, id] of acknowledged) {
		expect(stored.get(seq)?.update, `seq ${seq}`).toEqual(record(r, id, null, 100).update);
	}
	// Seqs have no gaps, and the log goes on after the last one.
	expect(doc.updates.map((u) => u.seq)).toEqual(
		Array.from({ length: doc.updates.length }, (_, i) => i + 1)
	);
	expect(await store.appendUpdates([record(r, 0)])).toEqual([doc.lastSeq + 1]);
}

describe('durability across SIGKILL', () => {
	it('[PERSIST3] SQLite: every append that resolved before a SIGKILL is there after reopening', async () => {
		const dir = tempDir();
		cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
		const path = join(dir, 'ensemble.db');
		const acknowledged = await appendThenKill(['sqlite', path]);
		const store = new SqliteStorage({ path });
		cleanups.unshift(() => store.close());
		await expectAllThere(store, acknowledged);
	});

	it.skipIf(reason !== null)(
		'[PERSIST3] PostgreSQL: every append that resolved before a SIGKILL is there after reopening',
		async () => {
			const schema = freshSchema();
			cleanups.push(() => dropSchema(schema));
			const acknowledged = await appendThenKill(['postgres', DATABASE_URL, schema]);
			const store = await PostgresStorage.open({ connectionString: DATABASE_URL, schema });
			cleanups.unshift(() => store.close());
			await expectAllThere(store, acknowledged);
		}
	);
});
