// What the summariser stores can be derived again from the update log (HIST9), so
// it commits without a sync of its own: a crash may drop its last commit whole
// (entries, checkpoint and cursor together), and the next summary writes the same
// entries again. Durable writes on the same connection stay durable.

import pg from 'pg';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryTailer } from '../../server/history/tailer.ts';
import type { RoomName } from '../../server/protocol/docs.ts';
import type { WorkspaceId } from '../../server/protocol/ids.ts';
import { silentLogger, systemClock } from '../../server/runtime.ts';
import type { EnsembleStorage } from '../../server/storage/common.ts';
import { SqliteStorage } from '../../server/storage/sqlite.ts';
import type { ActivityRecord } from '../../server/storage/types.ts';
import { ownedWorkspace, T0 } from '../storage/fixtures.ts';
import { DATABASE_URL, postgresGate, postgresSetup, sqliteSetup } from '../storage/helpers.ts';

const reason = await postgresGate();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
	for (const c of cleanups.splice(0)) await c();
});

interface Backend {
	readonly name: string;
	open(): Promise<{
		storage: EnsembleStorage;
		forget: (sql: string, workspace: string) => Promise<void>;
	}>;
}

const DERIVED_TABLES = ['activity', 'history_cursors', 'history_checkpoints'];

function sqlite(writer: 'worker' | 'inline'): Backend {
	return {
		name: `SQLite (${writer} writer)`,
		async open() {
			const setup = await sqliteSetup(writer);
			cleanups.push(() => setup.cleanup());
			const db = (setup.storage as SqliteStorage).db;
			return {
				storage: setup.storage,
				forget: (sql, workspace) => {
					db.prepare(sql).run(workspace);
					return Promise.resolve();
				}
			};
		}
	};
}

const backends: Backend[] = [sqlite('worker'), sqlite('inline')];
if (reason === null) {
	backends.push({
		name: 'PostgreSQL',
		async open() {
			const setup = await postgresSetup();
			cleanups.push(() => setup.cleanup());
			return {
				storage: setup.storage,
				forget: async (sql, workspace) => {
					const client = new pg.Client({ connectionString: DATABASE_URL });
					await client.connect();
					try {
						await client.query(`SET search_path TO ${setup.schema}`);
						await client.query(sql.replace('?', '$1'), [workspace]);
					} finally {
						await client.end();
					}
				}
			};
		}
	});
}

/** The entries as a reader sees them, without their random ids. */
async function feed(storage: EnsembleStorage, workspace: WorkspaceId) {
	const entries = await storage.archive.listActivity(workspace, { limit: 100 });
	// Ids are random and order entries of the same moment: compare by what they say.
	return entries
		.map(({ id: _id, ...entry }: ActivityRecord) => entry)
		.sort((a, b) => a.at - b.at || a.summary.localeCompare(b.summary));
}

describe.each(backends)('history summaries on $name', (backend) => {
	it('[HIST9] a summary lost whole in a crash is derived again, the same entries; durable commits stay durable', async () => {
		const { storage, forget } = await backend.open();
		const { owner, workspace } = await ownedWorkspace(storage);
		const room = `${workspace}/params` as RoomName;
		const doc = new Y.Doc();
		const updates: Uint8Array[] = [];
		doc.on('update', (u: Uint8Array) => updates.push(u));
		const hp = doc.getMap('hyperparameters');
		hp.set('learning_rate', 0.01);
		hp.set('epochs', 10);
		hp.set('learning_rate', 0.1);
		hp.set('epochs', 20);
		await storage.appendUpdates(
			updates.map((update, i) => ({ room, update, author: owner.id, at: T0 + i * 1000 }))
		);

		const tailer = new HistoryTailer({ storage, clock: systemClock, logger: silentLogger });
		await tailer.summarise(room);
		await tailer.close();
		const first = await feed(storage, workspace);
		expect(first.map((e) => e.summary).join('\n')).toMatch(/learning_rate 0\.01 → 0\.1/);
		if (storage instanceof SqliteStorage) {
			// Inline, the summary ran on this connection without a sync: it is back to FULL.
			expect(storage.db.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 2 });
		}

		for (const table of DERIVED_TABLES)
			await forget(`DELETE FROM ${table} WHERE workspace = ?`, workspace);
		expect(await feed(storage, workspace)).toEqual([]);
		const again = new HistoryTailer({ storage, clock: systemClock, logger: silentLogger });
		await again.summarise(room);
		await again.close();
		expect(await feed(storage, workspace)).toEqual(first);
	});
});
