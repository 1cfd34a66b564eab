// The history copy's tables (migration 4) in SQL shared by SQLite and PostgreSQL:
// each operation is a plan, a generator that yields statements and receives
// their rows, so SQLite runs it synchronously inside one transaction (nothing
// else on its connection can interleave) and PostgreSQL awaits each statement.

import type { RoomName } from '../protocol/docs.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';
import { workspaceOfRoom } from './common.ts';
import { blob, blobOrNull } from './rows.ts';
import type {
	ActivityQuery,
	ActivityRecord,
	ArchivedUpdate,
	ArchiveStore,
	Checkpoint,
	HistoryAdvance
} from './types.ts';

type Row = Record<string, unknown>;
export type SqlValue = string | number | null | Uint8Array;

export interface SqlStep {
	/** With `?` placeholders (PostgreSQL's driver numbers them). */
	readonly sql: string;
	readonly params: readonly SqlValue[];
}

export type SqlPlan<T> = Generator<SqlStep, T, Row[]>;

/**
 * How a plan runs: `read` outside a transaction; `durable` in one that is on
 * disk when it resolves; `derived` in one without a sync of its own, for what
 * can be derived again from durable rows (HIST9): it reaches the disk with the
 * next durable commit, or is lost whole in a crash and derived again.
 */
export type SqlMode = 'read' | 'durable' | 'derived';

export interface SqlDriver {
	run<T>(plan: SqlPlan<T>, mode: SqlMode): Promise<T>;
	/**
	 * Runs `advancePlan` where the store's update commits run when that is
	 * elsewhere (SQLite's writer thread); null: run it here, `derived`.
	 */
	advance?(step: HistoryAdvance): Promise<boolean> | null;
}

/** `?` → `$1`, `$2`… (the statements here have no `?` inside literals). */
export function numberPlaceholders(sql: string): string {
	let n = 0;
	return sql.replace(/\?/g, () => `$${++n}`);
}

function* one(sql: string, ...params: SqlValue[]): SqlPlan<Row[]> {
	return yield { sql, params };
}

function activity(row: Row): ActivityRecord {
	return {
		workspace: row.workspace as WorkspaceId,
		id: row.id as string,
		at: Number(row.at),
		user: (row.user_id as UserId | null) ?? null,
		kind: row.kind as string,
		summary: row.summary as string,
		data: JSON.parse(row.data as string) as Record<string, unknown>,
		mergeKey: (row.merge_key as string | null) ?? null
	};
}

const UPSERT_ACTIVITY = `INSERT INTO activity (workspace, id, at, user_id, kind, summary, data, merge_key)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (workspace, id) DO UPDATE SET at = excluded.at, summary = excluded.summary, data = excluded.data`;

function* upsertActivity(entries: readonly ActivityRecord[]): SqlPlan<void> {
	for (const e of entries) {
		yield* one(
			UPSERT_ACTIVITY,
			e.workspace,
			e.id,
			e.at,
			e.user,
			e.kind,
			e.summary,
			JSON.stringify(e.data),
			e.mergeKey
		);
	}
}

export function* advancePlan(step: HistoryAdvance): SqlPlan<boolean> {
	const moved = yield* one(
		`INSERT INTO history_cursors (room, workspace, seq) VALUES (?, ?, ?)
		 ON CONFLICT (room) DO UPDATE SET seq = excluded.seq WHERE history_cursors.seq = ?
		 RETURNING seq`,
		step.room,
		workspaceOfRoom(step.room),
		step.toSeq,
		step.fromSeq
	);
	if (moved.length === 0) return false;
	yield* upsertActivity(step.entries);
	const cp = step.checkpoint;
	if (cp) {
		yield* one(
			`INSERT INTO history_checkpoints (room, seq, workspace, at, state) VALUES (?, ?, ?, ?, ?)
			 ON CONFLICT (room, seq) DO NOTHING`,
			cp.room,
			cp.seq,
			workspaceOfRoom(cp.room),
			cp.at,
			cp.state
		);
	}
	return true;
}

function* listPlan(workspace: WorkspaceId, q: ActivityQuery): SqlPlan<ActivityRecord[]> {
	const where = ['workspace = ?'];
	const params: SqlValue[] = [workspace];
	if (q.before !== undefined) {
		where.push('id < ?');
		params.push(q.before);
	}
	if (q.user !== undefined) {
		where.push('user_id = ?');
		params.push(q.user);
	}
	if (q.kinds && q.kinds.length > 0) {
		where.push(`kind IN (${q.kinds.map(() => '?').join(', ')})`);
		params.push(...q.kinds);
	}
	if (q.from !== undefined) {
		where.push('at >= ?');
		params.push(q.from);
	}
	if (q.to !== undefined) {
		where.push('at <= ?');
		params.push(q.to);
	}
	params.push(q.limit);
	const found = yield* one(
		`SELECT * FROM activity WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
		...params
	);
	return found.map(activity);
}

export class SqlArchive implements ArchiveStore {
	readonly #db: SqlDriver;

	constructor(db: SqlDriver) {
		this.#db = db;
	}

	async readUpdates(
		room: RoomName,
		afterSeq: number,
		toSeq: number,
		limit: number
	): Promise<ArchivedUpdate[]> {
		const found = await this.#db.run(
			one(
				'SELECT seq, author, at, data FROM updates WHERE room = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
				room,
				afterSeq,
				toSeq,
				limit
			),
			'read'
		);
		return found.map((r) => ({
			seq: Number(r.seq),
			author: (r.author as UserId | null) ?? null,
			at: Number(r.at),
			update: blobOrNull(r.data)
		}));
	}

	async seqAt(room: RoomName, at: number): Promise<number> {
		const found = await this.#db.run(
			one(
				'SELECT seq FROM updates WHERE room = ? AND at <= ? ORDER BY at DESC, seq DESC LIMIT 1',
				room,
				at
			),
			'read'
		);
		return found[0] ? Number(found[0].seq) : 0;
	}

	async checkpointAtOrBefore(room: RoomName, seq: number): Promise<Checkpoint | null> {
		const found = await this.#db.run(
			one(
				'SELECT seq, at, state FROM history_checkpoints WHERE room = ? AND seq <= ? ORDER BY seq DESC LIMIT 1',
				room,
				seq
			),
			'read'
		);
		const row = found[0];
		return row ? { room, seq: Number(row.seq), at: Number(row.at), state: blob(row.state) } : null;
	}

	async cursor(room: RoomName): Promise<number> {
		const found = await this.#db.run(
			one('SELECT seq FROM history_cursors WHERE room = ?', room),
			'read'
		);
		return found[0] ? Number(found[0].seq) : 0;
	}

	advance(step: HistoryAdvance): Promise<boolean> {
		return this.#db.advance?.(step) ?? this.#db.run(advancePlan(step), 'derived');
	}

	addActivity(entries: readonly ActivityRecord[]): Promise<void> {
		return this.#db.run(upsertActivity(entries), 'durable');
	}

	listActivity(workspace: WorkspaceId, query: ActivityQuery): Promise<ActivityRecord[]> {
		return this.#db.run(listPlan(workspace, query), 'read');
	}

	async mergeable(
		workspace: WorkspaceId,
		mergeKey: string,
		since: number
	): Promise<ActivityRecord | null> {
		const found = await this.#db.run(
			one(
				'SELECT * FROM activity WHERE workspace = ? AND merge_key = ? AND at >= ? ORDER BY at DESC LIMIT 1',
				workspace,
				mergeKey,
				since
			),
			'read'
		);
		return found[0] ? activity(found[0]) : null;
	}
}
