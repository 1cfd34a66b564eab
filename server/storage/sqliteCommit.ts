// The SQLite connection settings and the group-commit transaction, shared by the
// main thread (writer: 'inline') and the writer thread (sqliteWriter.ts).

import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { RoomName } from '../protocol/docs.ts';
import { workspaceOfRoom } from './common.ts';
import type { UpdateRecord } from './types.ts';

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
