// A minimal node:sqlite document store for the peers when a scenario stores
// (cold load): an append-only log of updates per document name. The peers ship
// no SQLite store that works here without a native addon (Hocuspocus's SQLite
// extension needs better-sqlite3), so both get the same small one.

import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import * as Y from 'yjs';

export class SqliteDocs {
	private readonly db: DatabaseSync;

	constructor(dataDir: string) {
		this.db = new DatabaseSync(join(dataDir, 'peer.sqlite'));
		this.db.exec(
			'PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS updates (name TEXT NOT NULL, data BLOB NOT NULL)'
		);
	}

	/** Every stored update of `name` merged into one, or null if none. */
	load(name: string): Uint8Array | null {
		const rows = this.db
			.prepare('SELECT data FROM updates WHERE name = ? ORDER BY rowid')
			.all(name);
		const updates = rows.map((row) => row.data as Uint8Array);
		if (updates.length === 0) return null;
		return updates.length === 1 ? (updates[0] ?? null) : Y.mergeUpdates(updates);
	}

	append(name: string, update: Uint8Array): void {
		this.db.prepare('INSERT INTO updates (name, data) VALUES (?, ?)').run(name, update);
	}

	/** Hocuspocus stores the whole state each time: keep one row per document. */
	replace(name: string, state: Uint8Array): void {
		this.db.exec('BEGIN');
		this.db.prepare('DELETE FROM updates WHERE name = ?').run(name);
		this.append(name, state);
		this.db.exec('COMMIT');
	}

	close(): void {
		this.db.close();
	}
}
