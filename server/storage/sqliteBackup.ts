// Online backup of the SQLite store and restore of a backup (server stopped),
// for the operator CLI.

import { copyFileSync, existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { backup, DatabaseSync } from 'node:sqlite';
import { systemClock, type Clock } from '../runtime.ts';
import { checkNotNewer } from './migrations.ts';
import type { SqliteStorage } from './sqlite.ts';

type Row = Record<string, unknown>;

export const SQLITE_FILE = 'ensemble.db';

/**
 * Copies the open database to `destPath` with SQLite's online backup: the server
 * keeps running, and the copy is a consistent state (every commit up to then).
 */
export async function backupSqlite(storage: SqliteStorage, destPath: string): Promise<void> {
	await backup(storage.db, destPath);
}

/**
 * Puts a backup in place of `${dataDir}/ensemble.db`. Run it only while the server
 * is stopped. The file is checked first (integrity, and that it is an Ensemble
 * database this version can open); the current database and its WAL are moved
 * aside to `ensemble.db.before-restore-<time>` rather than deleted.
 */
export function restoreSqlite(
	backupPath: string,
	dataDir: string,
	clock: Clock = systemClock
): { replaced: string | null } {
	verifySqliteBackup(backupPath);
	const target = join(dataDir, SQLITE_FILE);
	let replaced: string | null = null;
	if (existsSync(target)) {
		replaced = `${target}.before-restore-${clock.now()}`;
		renameSync(target, replaced);
	}
	// A WAL left by the old database would be replayed into the restored one.
	for (const suffix of ['-wal', '-shm']) {
		if (existsSync(target + suffix)) {
			if (replaced) renameSync(target + suffix, replaced + suffix);
			else renameSync(target + suffix, `${target}${suffix}.stale-${clock.now()}`);
		}
	}
	const temp = `${target}.restoring`;
	copyFileSync(backupPath, temp);
	renameSync(temp, target);
	return { replaced };
}

function verifySqliteBackup(path: string): void {
	if (!existsSync(path) || !statSync(path).isFile()) throw new Error(`${path}: no such file`);
	let db: DatabaseSync;
	try {
		db = new DatabaseSync(path, { readOnly: true });
	} catch (cause) {
		throw new Error(`${path} is not an SQLite database`, { cause });
	}
	try {
		const check = db.prepare('PRAGMA integrity_check').get() as Row | undefined;
		if (check?.integrity_check !== 'ok') {
			throw new Error(`${path} is damaged: ${String(check?.integrity_check)}`);
		}
		let versions: number[];
		try {
			versions = (db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) =>
				Number(r.version)
			);
		} catch (cause) {
			throw new Error(`${path} is not an Ensemble database (no schema_migrations)`, { cause });
		}
		if (versions.length === 0)
			throw new Error(`${path} is not an Ensemble database (empty schema)`);
		checkNotNewer(versions, path);
	} finally {
		db.close();
	}
}
