// Versioned schema migrations, one list for both databases. A migration is never
// edited once released: add a new version instead. Applied in order at open; the
// versions applied are recorded in `schema_migrations`.

export interface Migration {
	readonly version: number;
	readonly name: string;
	readonly sqlite: string;
	readonly postgres: string;
}

/** Tables with the same shape in both dialects; `BLOB`/`INTEGER` become `bytea`/`bigint`. */
const V1_TABLES = `
CREATE TABLE users (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	email TEXT NOT NULL,
	email_key TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE workspaces (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE members (
	workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	user_id TEXT NOT NULL,
	role TEXT NOT NULL,
	joined_at INTEGER NOT NULL,
	PRIMARY KEY (workspace, user_id)
);
CREATE INDEX members_user ON members(user_id);
CREATE TABLE invites (
	token_hash TEXT PRIMARY KEY,
	workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	email TEXT NOT NULL,
	role TEXT NOT NULL,
	created_by TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at INTEGER
);
CREATE INDEX invites_workspace ON invites(workspace);
CREATE TABLE api_keys (
	id TEXT PRIMARY KEY,
	workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	key_hash TEXT NOT NULL UNIQUE,
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	revoked_at INTEGER
);
CREATE INDEX api_keys_workspace ON api_keys(workspace);
CREATE TABLE datasets (
	workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	id TEXT NOT NULL,
	name TEXT NOT NULL,
	created_by TEXT,
	created_at INTEGER NOT NULL,
	bytes INTEGER NOT NULL,
	content BLOB NOT NULL,
	PRIMARY KEY (workspace, id)
);
CREATE TABLE active_runs (
	workspace TEXT NOT NULL,
	run TEXT NOT NULL,
	PRIMARY KEY (workspace, run)
);
-- One row per document: the per-room seq counter (its row lock orders concurrent
-- writers, also across processes) and the compacted snapshot.
CREATE TABLE rooms (
	room TEXT PRIMARY KEY,
	workspace TEXT NOT NULL,
	last_seq INTEGER NOT NULL,
	snapshot BLOB,
	snapshot_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rooms_workspace ON rooms(workspace);
-- The log and the history in one table: compaction sets data to NULL and keeps
-- who wrote what, when, and how much.
CREATE TABLE updates (
	room TEXT NOT NULL,
	seq INTEGER NOT NULL,
	author TEXT,
	at INTEGER NOT NULL,
	bytes INTEGER NOT NULL,
	data BLOB,
	PRIMARY KEY (room, seq)
);
`;

export function toPostgres(sql: string): string {
	return sql.replaceAll(' INTEGER', ' BIGINT').replaceAll(' BLOB', ' BYTEA');
}

// Active runs become the run queue (issue 12): a row from queued until its end is
// stored, with who claimed it and when it last said it was alive.
const V3_QUEUE = `
ALTER TABLE active_runs ADD COLUMN runner TEXT NOT NULL DEFAULT 'builtin';
ALTER TABLE active_runs ADD COLUMN agent TEXT NOT NULL DEFAULT '';
ALTER TABLE active_runs ADD COLUMN state TEXT NOT NULL DEFAULT 'running';
ALTER TABLE active_runs ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE active_runs ADD COLUMN queued_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE active_runs ADD COLUMN heartbeat_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE active_runs ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE active_runs ADD COLUMN requeue INTEGER NOT NULL DEFAULT 0;
CREATE INDEX active_runs_queue ON active_runs (state, queued_at);
`;

// History (issue 13, server/history): the activity feed, which seq of each room
// it has summarised, and checkpoints of past states (a full Yjs state with gc
// off every so many updates) so that any moment is rebuilt from the nearest one.
const V4_HISTORY = `
CREATE TABLE activity (
	workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	id TEXT NOT NULL,
	at INTEGER NOT NULL,
	user_id TEXT,
	kind TEXT NOT NULL,
	summary TEXT NOT NULL,
	data TEXT NOT NULL,
	merge_key TEXT,
	PRIMARY KEY (workspace, id)
);
CREATE INDEX activity_merge ON activity (workspace, merge_key, at);
CREATE TABLE history_cursors (
	room TEXT PRIMARY KEY,
	workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL
);
CREATE TABLE history_checkpoints (
	room TEXT NOT NULL,
	seq INTEGER NOT NULL,
	workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	at INTEGER NOT NULL,
	state BLOB NOT NULL,
	PRIMARY KEY (room, seq)
);
CREATE INDEX updates_at ON updates (room, at, seq);
`;

// Sweeps (issue 16): a sweep's definition and whether it was stopped; each of its
// queued or running runs names it, so stopping it withdraws them and the
// per-workspace queue limit counts only runs queued one by one.
const V5_SWEEPS = `
CREATE TABLE sweeps (
	workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	id TEXT NOT NULL,
	definition TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	state TEXT NOT NULL DEFAULT 'running',
	ended_at INTEGER,
	PRIMARY KEY (workspace, id)
);
ALTER TABLE active_runs ADD COLUMN sweep TEXT NOT NULL DEFAULT '';
`;

export const MIGRATIONS: readonly Migration[] = [
	{ version: 1, name: 'initial schema', sqlite: V1_TABLES, postgres: toPostgres(V1_TABLES) },
	{
		version: 2,
		name: 'the process that owns an active run',
		sqlite: `ALTER TABLE active_runs ADD COLUMN owner TEXT NOT NULL DEFAULT ''`,
		postgres: `ALTER TABLE active_runs ADD COLUMN owner TEXT NOT NULL DEFAULT ''`
	},
	{ version: 3, name: 'the run queue', sqlite: V3_QUEUE, postgres: toPostgres(V3_QUEUE) },
	{
		version: 4,
		name: 'history and activity',
		sqlite: V4_HISTORY,
		postgres: toPostgres(V4_HISTORY)
	},
	{ version: 5, name: 'sweeps', sqlite: V5_SWEEPS, postgres: toPostgres(V5_SWEEPS) }
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export const MIGRATIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at INTEGER NOT NULL
)`;

/** Refuses a database written by a newer Ensemble: running old code on it could lose data. */
export function checkNotNewer(applied: readonly number[], where: string): void {
	const newest = Math.max(0, ...applied);
	if (newest > LATEST_VERSION) {
		throw new Error(
			`${where} has schema version ${newest}, newer than this Ensemble knows (${LATEST_VERSION}): upgrade Ensemble instead of opening it with an older one`
		);
	}
}
