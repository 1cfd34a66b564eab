// SQLite specifics: durability settings, migrations, online backup and restore.

import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../server/protocol/ids.ts';
import { createStorage } from '../../server/storage/index.ts';
import { LATEST_VERSION } from '../../server/storage/migrations.ts';
import { backupSqlite, restoreSqlite, SqliteStorage } from '../../server/storage/sqlite.ts';
import { silentLogger, systemClock } from '../../server/runtime.ts';
import { record, room, uid } from './fixtures.ts';
import { tempDir } from './helpers.ts';

const open: SqliteStorage[] = [];
const dirs: string[] = [];
afterEach(async () => {
	for (const s of open.splice(0)) await s.close();
	for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dir(): string {
	const d = tempDir();
	dirs.push(d);
	return d;
}

function store(path: string): SqliteStorage {
	const s = new SqliteStorage({ path });
	open.push(s);
	return s;
}

async function closeAll(): Promise<void> {
	for (const s of open.splice(0)) await s.close();
}

describe('SQLite storage', () => {
	it('[PERSIST2] the database is in WAL mode with synchronous=FULL, so a commit is on disk before it resolves', async () => {
		const d = dir();
		const s = await createStorage({ dataDir: d, clock: systemClock, logger: silentLogger });
		expect(s.kind).toBe('sqlite');
		expect(existsSync(join(d, 'ensemble.db'))).toBe(true);
		const db = (s as SqliteStorage).db;
		expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
		expect(db.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 2 });
		expect(db.prepare('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 });
		await s.close();
	});

	it('[MIGRATE1] migrations are applied once at open and recorded in schema_migrations', async () => {
		const path = join(dir(), 'ensemble.db');
		const first = store(path);
		const versions = () =>
			first.db.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all();
		const applied = versions();
		expect(applied.map((r) => r.version)).toEqual(
			Array.from({ length: LATEST_VERSION }, (_, i) => i + 1)
		);
		await closeAll();
		const again = store(path);
		expect(
			again.db.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all()
		).toEqual(applied);
	});

	it('[MIGRATE2] a database written by a newer Ensemble is refused, not altered', async () => {
		const path = join(dir(), 'ensemble.db');
		store(path).db.exec(
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${LATEST_VERSION + 1}, 'future', 0)`
		);
		await closeAll();
		expect(() => new SqliteStorage({ path })).toThrow(/newer than this Ensemble knows/);
	});

	it('[BACKUP1] an online backup taken while writing restores into a working store', async () => {
		const source = dir();
		const live = store(join(source, 'ensemble.db'));
		const r = room(uid('w') as WorkspaceId);
		await live.appendUpdates(Array.from({ length: 50 }, (_, i) => record(r, i + 1)));
		const backupPath = join(dir(), 'backup.db');
		// Writes go on during the backup; the copy holds at least what was committed before.
		const writing = live.appendUpdates([record(r, 51)]);
		await backupSqlite(live, backupPath);
		await writing;

		const target = dir();
		writeFileSync(join(target, 'ensemble.db'), 'the old database');
		writeFileSync(join(target, 'ensemble.db-wal'), 'its stale WAL');
		const { replaced } = restoreSqlite(backupPath, target);
		expect(replaced).toMatch(/ensemble\.db\.before-restore-\d+$/);
		expect(readdirSync(target).sort()).toEqual(
			['ensemble.db', replaced!.split('/').pop()!, `${replaced!.split('/').pop()!}-wal`].sort()
		);
		const restored = store(join(target, 'ensemble.db'));
		const doc = await restored.loadDoc(r);
		expect(doc.updates.length).toBeGreaterThanOrEqual(50);
		expect(doc.updates.slice(0, 50)).toEqual((await live.loadDoc(r)).updates.slice(0, 50));
	});

	it('[BACKUP2] restore refuses a file that is not an Ensemble database and leaves the current one alone', async () => {
		const target = dir();
		const current = store(join(target, 'ensemble.db'));
		const r = room(uid('w') as WorkspaceId);
		await current.appendUpdates([record(r, 1)]);
		await closeAll();

		const garbage = join(dir(), 'garbage.db');
		writeFileSync(garbage, 'not a database at all, just some text that is long enough');
		expect(() => restoreSqlite(garbage, target)).toThrow(
			/not an SQLite database|damaged|not a database/
		);
		const foreign = join(dir(), 'foreign.db');
		const other = new DatabaseSync(foreign);
		other.exec('CREATE TABLE t (x INTEGER)');
		other.close();
		expect(() => restoreSqlite(foreign, target)).toThrow(/not an Ensemble database/);
		expect(() => restoreSqlite(join(target, 'missing.db'), target)).toThrow(/no such file/);

		expect(readdirSync(target)).toEqual(['ensemble.db']);
		expect((await store(join(target, 'ensemble.db')).loadDoc(r)).lastSeq).toBe(1);
	});
});
