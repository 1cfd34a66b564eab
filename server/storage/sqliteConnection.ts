// SQLite connections: their settings, the migrations, and the group-commit
// transaction shared by the main thread (writer: 'inline') and the writer thread.

import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { RoomName } from '../protocol/docs.ts';
import type { Clock } from '../runtime.ts';
import { workspaceOfRoom } from './common.ts';
import { checkNotNewer, MIGRATIONS, MIGRATIONS_TABLE_SQL } from './migrations.ts';
import type { UpdateRecord } from './types.ts';
import type { SqlPlan } from './archive.ts';

/** Opens a connection with the durability settings every connection to the file must share. */
export function openSqlite(path: string): DatabaseSync {
	const db = new DatabaseSync(path);
	try {
		db.exec('PRAGMA journal_mode = WAL');
		// FULL: the WAL is fsynced at every COMMIT, so a resolved append survives a power loss.
		db.exec('PRAGMA synchronous = FULL');
		db.exec('PRAGMA foreign_keys = ON');
		// The other connection (main thread or writer thread) may hold the write lock briefly.
		db.exec('PRAGMA busy_timeout = 5000');
	} catch (error) {
		db.close();
		throw error;
	}
	return db;
}

export class SqliteCommitter {
	readonly #bump: StatementSync;
	readonly #insert: StatementSync;
	readonly #db: DatabaseSync;

	constructor(db: DatabaseSync) {
		this.#db = db;
		this.#bump = db.prepare(
			`INSERT INTO rooms (room, workspace, last_seq) VALUES (?, ?, ?)
			 ON CONFLICT (room) DO UPDATE SET last_seq = last_seq + excluded.last_seq
			 RETURNING last_seq`
		);
		this.#insert = db.prepare(
			'INSERT INTO updates (room, seq, author, at, bytes, data) VALUES (?, ?, ?, ?, ?, ?)'
		);
	}

	/**
	 * Writes the records in one IMMEDIATE transaction and returns their seqs.
	 * `beforeCommit` runs after the rows are written (fault injection for tests).
	 */
	commit(records: readonly UpdateRecord[], beforeCommit: () => void): number[] {
		this.#db.exec('BEGIN IMMEDIATE');
		try {
			const seqs = new Array<number>(records.length);
			// One counter bump per room: a block of seqs for the whole batch.
			const byRoom = new Map<RoomName, number[]>();
			records.forEach((r, i) => {
				const list = byRoom.get(r.room);
				if (list) list.push(i);
				else byRoom.set(r.room, [i]);
			});
			for (const [room, indexes] of byRoom) {
				const row = this.#bump.get(room, workspaceOfRoom(room), indexes.length) as {
					last_seq: number;
				};
				const first = Number(row.last_seq) - indexes.length + 1;
				indexes.forEach((index, k) => (seqs[index] = first + k));
			}
			records.forEach((r, i) => {
				this.#insert.run(r.room, seqs[i]!, r.author, r.at, r.update.byteLength, r.update);
			});
			beforeCommit();
			this.#db.exec('COMMIT');
			return seqs;
		} catch (error) {
			this.#db.exec('ROLLBACK');
			throw error;
		}
	}
}

/** Runs a plan's statements on `prepare`'s connection, feeding each one's rows back. */
export function runPlanSync<T>(
	plan: SqlPlan<T>,
	all: (sql: string, params: readonly SQLInputValue[]) => Record<string, unknown>[]
): T {
	for (let step = plan.next([]); ;) {
		if (step.done) return step.value;
		step = plan.next(all(step.value.sql, step.value.params));
	}
}

/**
 * Runs `fn` in one IMMEDIATE transaction. Not `durable`: its COMMIT does not sync
 * (synchronous = NORMAL for it, back to FULL after; WAL keeps the order of
 * commits): it reaches the disk with the next durable commit, or a crash drops
 * it whole (HIST9).
 */
export function sqliteTransaction<T>(db: DatabaseSync, fn: () => T, durable = true): T {
	if (!durable) db.exec('PRAGMA synchronous = NORMAL');
	try {
		db.exec('BEGIN IMMEDIATE');
		try {
			const result = fn();
			db.exec('COMMIT');
			return result;
		} catch (error) {
			db.exec('ROLLBACK');
			throw error;
		}
	} finally {
		if (!durable) db.exec('PRAGMA synchronous = FULL');
	}
}

/** Applies the missing migrations, each in its own IMMEDIATE transaction (one writer at a time). */
type Row = Record<string, unknown>;

export function migrateSqlite(db: DatabaseSync, clock: Clock, where: string): void {
	db.exec(MIGRATIONS_TABLE_SQL);
	for (const m of MIGRATIONS) {
		db.exec('BEGIN IMMEDIATE');
		try {
			const applied = (db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map(
				(r) => Number(r.version)
			);
			checkNotNewer(applied, where);
			if (!applied.includes(m.version)) {
				db.exec(m.sqlite);
				db.prepare(
					'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)'
				).run(m.version, m.name, clock.now());
			}
			db.exec('COMMIT');
		} catch (error) {
			db.exec('ROLLBACK');
			throw error;
		}
	}
}
