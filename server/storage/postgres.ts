// PostgreSQL storage (DATABASE_URL): the same contract as SQLite, shared by every
// relay process. Seqs come from the `rooms` row of each document: a group commit
// bumps it with INSERT … ON CONFLICT DO UPDATE, whose row lock is held until
// COMMIT, so writers of one room (in any process) take turns and seqs are
// committed in increasing order. Rooms are locked in sorted order (no deadlock
// between two batches); a deadlock or serialization failure is still retried.

import pg from 'pg';
import type { RoomName } from '../protocol/docs.ts';
import type { RunId, UserId, WorkspaceId } from '../protocol/ids.ts';
import type { Role } from '../protocol/roles.ts';
import { silentLogger, systemClock, type Clock, type Logger } from '../runtime.ts';
import {
	checkCompaction,
	keepsHistory,
	emailKey,
	historyLimit,
	lastSeqOfDump,
	workspaceOfRoom,
	type DocumentDump,
	type EnsembleStorage,
	type StorageOptions
} from './common.ts';
import { GroupCommitter } from './groupCommit.ts';
import {
	numberPlaceholders,
	SqlArchive,
	type SqlMode,
	type SqlPlan,
	type SqlValue
} from './archive.ts';
import { checkNotNewer, MIGRATIONS, MIGRATIONS_TABLE_SQL, toPostgres } from './migrations.ts';
import { pickClaim } from './common.ts';
import * as rows from './rows.ts';
import type {
	ActiveRun,
	ApiKey,
	ClaimQuery,
	Dataset,
	HistoryEntry,
	Invite,
	LoadedDoc,
	Member,
	Session,
	StoredUpdate,
	UpdateRecord,
	User,
	Workspace,
	SweepRow
} from './types.ts';

export interface PostgresStorageOptions extends StorageOptions {
	/** postgres://… (DATABASE_URL). */
	readonly connectionString: string;
	/**
	 * A schema to use instead of `public` (created when missing). Tests give each
	 * run its own so that parallel runs never collide.
	 */
	readonly schema?: string;
	readonly clock?: Clock;
	readonly logger?: Logger;
	/** Connections in the pool (default 10). */
	readonly poolSize?: number;
	/**
	 * Server-side limit per statement (default 30 s): a hung commit fails (and its
	 * callers hear of it) instead of holding every later append back forever.
	 */
	readonly statementTimeoutMs?: number;
}

type Row = Record<string, unknown>;
type Queryable = Pick<pg.PoolClient, 'query'>;

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
/** Retried once or twice: PostgreSQL aborted the transaction only to break a cycle. */
const RETRYABLE = new Set(['40P01', '40001']);

const param = (v: SqlValue): unknown => (v instanceof Uint8Array ? Buffer.from(v) : v);

async function runPlan<T>(
	client: { query(sql: string, params: unknown[]): Promise<{ rows: unknown[] }> },
	plan: SqlPlan<T>
): Promise<T> {
	for (let step = plan.next([]); ;) {
		if (step.done) return step.value;
		const { rows: found } = await client.query(
			numberPlaceholders(step.value.sql),
			step.value.params.map(param)
		);
		step = plan.next(found as Row[]);
	}
}

export class PostgresStorage implements EnsembleStorage {
	readonly kind = 'postgres' as const;
	readonly schema: string;
	readonly #pool: pg.Pool;
	readonly #committer: GroupCommitter;
	readonly #logger: Logger;
	#closed = false;
	readonly archive = new SqlArchive({
		run: <T>(plan: SqlPlan<T>, mode: SqlMode): Promise<T> =>
			mode === 'read'
				? runPlan(
						{ query: async (sql, params) => ({ rows: await this.#query(sql, params) }) },
						plan
					)
				: this.#transaction(
						(client) => runPlan(client, plan),
						// What can be derived again commits without waiting for the WAL flush (HIST9).
						mode === 'durable' ? 'BEGIN' : 'BEGIN; SET LOCAL synchronous_commit = off'
					)
	});

	/** Connects, applies migrations (one process at a time) and returns the store. */
	static async open(options: PostgresStorageOptions): Promise<PostgresStorage> {
		const store = new PostgresStorage(options);
		try {
			await store.#migrate(options.clock ?? systemClock);
		} catch (error) {
			await store.#pool.end();
			throw error;
		}
		return store;
	}

	private constructor(options: PostgresStorageOptions) {
		const schema = options.schema ?? 'public';
		if (!SCHEMA_PATTERN.test(schema)) throw new Error(`invalid schema name ${schema}`);
		this.schema = schema;
		this.#logger = (options.logger ?? silentLogger).child({ storage: 'postgres', schema });
		this.#pool = new pg.Pool({
			connectionString: options.connectionString,
			max: options.poolSize ?? 10,
			connectionTimeoutMillis: 5000,
			// A session stuck inside a transaction (a frozen process) would hold its rooms'
			// row locks and stall every other process's appends: the server ends it.
			options: [
				`-c search_path=${schema}`,
				`-c statement_timeout=${options.statementTimeoutMs ?? 30_000}`,
				'-c idle_in_transaction_session_timeout=60000'
			].join(' ')
		});
		// An idle client that loses its connection emits here; unhandled, it would kill the process.
		this.#pool.on('error', (err) =>
			this.#logger.error({ err }, 'postgres: idle connection failed')
		);
		this.#committer = new GroupCommitter({
			commit: (records) => this.#commitWithRetry(records),
			logger: this.#logger,
			onCommit: options.onCommit
		});
	}

	get commitCount(): number {
		return this.#committer.commitCount;
	}
	get failedCommits(): number {
		return this.#committer.failedCommits;
	}
	failNextCommit(error: Error): void {
		this.#committer.failNextCommit(error);
	}

	async #migrate(clock: Clock): Promise<void> {
		const client = await this.#pool.connect();
		// Every process starting at once waits here; the first applies, the others find it done.
		const lockKey = [0x456e73, hash32(`ensemble-migrations:${this.schema}`)];
		try {
			await client.query('SELECT pg_advisory_lock($1, $2)', lockKey);
			try {
				await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
				await client.query(toPostgres(MIGRATIONS_TABLE_SQL));
				for (const m of MIGRATIONS) {
					await client.query('BEGIN');
					try {
						const applied = (await client.query('SELECT version FROM schema_migrations')).rows.map(
							(r: Row) => Number(r.version)
						);
						checkNotNewer(applied, `PostgreSQL schema ${this.schema}`);
						if (!applied.includes(m.version)) {
							await client.query(m.postgres);
							await client.query(
								'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
								[m.version, m.name, clock.now()]
							);
							this.#logger.info(
								{ version: m.version, name: m.name },
								'postgres: migration applied'
							);
						}
						await client.query('COMMIT');
					} catch (error) {
						await client.query('ROLLBACK');
						throw error;
					}
				}
			} finally {
				await client.query('SELECT pg_advisory_unlock($1, $2)', lockKey);
			}
		} finally {
			client.release();
		}
	}

	async #transaction<T>(fn: (client: Queryable) => Promise<T>, begin = 'BEGIN'): Promise<T> {
		if (this.#closed) throw new Error('storage is closed');
		const client = await this.#pool.connect();
		let broken: Error | undefined;
		// The pool listens for errors only on idle clients: a connection reset while
		// this one is checked out between two queries would otherwise be an
		// unhandled 'error' event and kill the process (seen with a cut link,
		// tests/faults). The next query fails; the client is dropped on release.
		const onError = (err: Error) => {
			broken = err;
			this.#logger.error({ err: err.message }, 'postgres: connection failed during a transaction');
		};
		client.on('error', onError);
		try {
			await client.query(begin);
			try {
				const result = await fn(client);
				await client.query('COMMIT');
				return result;
			} catch (error) {
				try {
					await client.query('ROLLBACK');
				} catch (rollbackError) {
					// The connection is gone; drop it from the pool and report the first error.
					broken =
						rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
				}
				throw error;
			}
		} finally {
			client.off('error', onError);
			client.release(broken);
		}
	}

	async #query(sql: string, params: unknown[] = []): Promise<Row[]> {
		if (this.#closed) throw new Error('storage is closed');
		return (await this.#pool.query(sql, params)).rows as Row[];
	}

	async #commitWithRetry(records: readonly UpdateRecord[]): Promise<number[]> {
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.#transaction((client) => this.#commitBatch(client, records));
			} catch (error) {
				const code = (error as { code?: unknown }).code;
				if (attempt >= 3 || typeof code !== 'string' || !RETRYABLE.has(code)) throw error;
				this.#logger.warn({ code, attempt }, 'postgres: group commit retried');
			}
		}
	}

	async #commitBatch(client: Queryable, records: readonly UpdateRecord[]): Promise<number[]> {
		const byRoom = new Map<RoomName, number[]>();
		records.forEach((r, i) => {
			const list = byRoom.get(r.room);
			if (list) list.push(i);
			else byRoom.set(r.room, [i]);
		});
		const rooms = [...byRoom.keys()].sort();
		const bumped = await client.query(
			`INSERT INTO rooms (room, workspace, last_seq)
			 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ORDER BY 1
			 ON CONFLICT (room) DO UPDATE SET last_seq = rooms.last_seq + EXCLUDED.last_seq
			 RETURNING room, last_seq`,
			[rooms, rooms.map(workspaceOfRoom), rooms.map((r) => byRoom.get(r)!.length)]
		);
		const seqs = new Array<number>(records.length);
		for (const row of bumped.rows as Row[]) {
			const indexes = byRoom.get(row.room as RoomName)!;
			const first = Number(row.last_seq) - indexes.length + 1;
			indexes.forEach((index, k) => (seqs[index] = first + k));
		}
		await client.query(
			`INSERT INTO updates (room, seq, author, at, bytes, data)
			 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bytea[])`,
			[
				records.map((r) => r.room),
				seqs,
				records.map((r) => r.author),
				records.map((r) => r.at),
				records.map((r) => r.update.byteLength),
				records.map((r) => r.update)
			]
		);
		this.#committer.checkInjectedFailure();
		return seqs;
	}

	async appendUpdates(records: readonly UpdateRecord[]): Promise<number[]> {
		return this.#committer.append(records);
	}

	async loadDoc(room: RoomName): Promise<LoadedDoc> {
		// One snapshot of the database for both reads: a compaction in between
		// would otherwise leave updates without their data.
		return this.#transaction(async (client) => {
			const head = (
				await client.query('SELECT last_seq, snapshot, snapshot_seq FROM rooms WHERE room = $1', [
					room
				])
			).rows[0] as Row | undefined;
			if (!head) return { snapshot: null, updates: [], lastSeq: 0 };
			const updates = (
				await client.query(
					'SELECT seq, author, at, data FROM updates WHERE room = $1 AND seq > $2 ORDER BY seq',
					[room, head.snapshot_seq]
				)
			).rows.map((r: Row) => rows.storedUpdate(room, r));
			return {
				snapshot: rows.blobOrNull(head.snapshot),
				updates,
				lastSeq: Number(head.last_seq)
			};
		}, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
	}

	async compact(room: RoomName, snapshot: Uint8Array, upToSeq: number): Promise<void> {
		await this.#transaction(async (client) => {
			const head = (
				await client.query('SELECT last_seq, snapshot_seq FROM rooms WHERE room = $1 FOR UPDATE', [
					room
				])
			).rows[0] as Row | undefined;
			checkCompaction(room, upToSeq, head ? Number(head.last_seq) : 0);
			// Another process may have compacted further already: keep the newer snapshot.
			if (upToSeq <= Number(head!.snapshot_seq)) return;
			await client.query('UPDATE rooms SET snapshot = $1, snapshot_seq = $2 WHERE room = $3', [
				snapshot,
				upToSeq,
				room
			]);
			// The history copy: params, code and live keep their update bytes (HIST1).
			if (keepsHistory(room)) return;
			await client.query(
				'UPDATE updates SET data = NULL WHERE room = $1 AND seq <= $2 AND data IS NOT NULL',
				[room, upToSeq]
			);
		});
	}

	async history(
		room: RoomName,
		options: { limit?: number; beforeSeq?: number } = {}
	): Promise<HistoryEntry[]> {
		const limit = historyLimit(options.limit);
		return (
			await this.#query(
				'SELECT seq, author, at, bytes FROM updates WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3',
				[room, options.beforeSeq ?? Number.MAX_SAFE_INTEGER, limit]
			)
		).map(rows.historyEntry);
	}

	async listRooms(workspace: WorkspaceId): Promise<RoomName[]> {
		return (
			await this.#query('SELECT room FROM rooms WHERE workspace = $1 ORDER BY room', [workspace])
		).map((r) => r.room as RoomName);
	}

	async dumpDocument(room: RoomName): Promise<DocumentDump> {
		return this.#transaction(async (client) => {
			const head = (
				await client.query('SELECT snapshot, snapshot_seq FROM rooms WHERE room = $1', [room])
			).rows[0] as Row | undefined;
			if (!head) return { snapshot: null, snapshotSeq: 0, updates: [], history: [] };
			const all = (
				await client.query(
					'SELECT seq, author, at, bytes, data FROM updates WHERE room = $1 ORDER BY seq',
					[room]
				)
			).rows as Row[];
			const snapshotSeq = Number(head.snapshot_seq);
			const updates: StoredUpdate[] = all
				.filter((r) => Number(r.seq) > snapshotSeq)
				.map((r) => rows.storedUpdate(room, r));
			return {
				snapshot: rows.blobOrNull(head.snapshot),
				snapshotSeq,
				updates,
				history: all.map(rows.historyEntry)
			};
		}, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
	}

	async restoreDocument(room: RoomName, dump: DocumentDump): Promise<void> {
		await this.#transaction(async (client) => {
			const inserted = await client.query(
				`INSERT INTO rooms (room, workspace, last_seq, snapshot, snapshot_seq)
				 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
				[room, workspaceOfRoom(room), lastSeqOfDump(dump), dump.snapshot, dump.snapshotSeq]
			);
			if (inserted.rowCount !== 1) throw new Error(`restore ${room}: the room already has content`);
			const data = new Map(dump.updates.map((u) => [u.seq, u.update]));
			await client.query(
				`INSERT INTO updates (room, seq, author, at, bytes, data)
				 SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bytea[])`,
				[
					room,
					dump.history.map((h) => h.seq),
					dump.history.map((h) => h.author),
					dump.history.map((h) => h.at),
					dump.history.map((h) => h.bytes),
					dump.history.map((h) => data.get(h.seq) ?? null)
				]
			);
		});
	}

	// Accounts

	async createUser(user: User): Promise<void> {
		await this.#query(
			'INSERT INTO users (id, name, email, email_key, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
			[user.id, user.name, user.email, emailKey(user.email), user.passwordHash, user.createdAt]
		);
	}

	async getUserById(id: UserId): Promise<User | null> {
		return rows.maybe((await this.#query('SELECT * FROM users WHERE id = $1', [id]))[0], rows.user);
	}

	async getUserByEmail(email: string): Promise<User | null> {
		const found = await this.#query('SELECT * FROM users WHERE email_key = $1', [emailKey(email)]);
		return rows.maybe(found[0], rows.user);
	}

	async setPassword(id: UserId, passwordHash: string): Promise<void> {
		await this.#query('UPDATE users SET password_hash = $1 WHERE id = $2', [passwordHash, id]);
	}

	async listUsers(): Promise<User[]> {
		return (await this.#query('SELECT * FROM users ORDER BY created_at, id')).map(rows.user);
	}

	async createSession(session: Session): Promise<void> {
		await this.#query(
			'INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)',
			[session.tokenHash, session.userId, session.expiresAt]
		);
	}

	async getSession(tokenHash: string): Promise<Session | null> {
		const found = await this.#query('SELECT * FROM sessions WHERE token_hash = $1', [tokenHash]);
		return rows.maybe(found[0], rows.session);
	}

	async deleteSession(tokenHash: string): Promise<void> {
		await this.#query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
	}

	async deleteSessionsOf(userId: UserId): Promise<void> {
		await this.#query('DELETE FROM sessions WHERE user_id = $1', [userId]);
	}

	// Workspaces

	async createWorkspace(workspace: Workspace, owner: UserId): Promise<void> {
		await this.#transaction(async (client) => {
			await client.query('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)', [
				workspace.id,
				workspace.name,
				workspace.createdAt
			]);
			await client.query(
				"INSERT INTO members (workspace, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
				[workspace.id, owner, workspace.createdAt]
			);
		});
	}

	async getWorkspace(id: WorkspaceId): Promise<Workspace | null> {
		const found = await this.#query('SELECT * FROM workspaces WHERE id = $1', [id]);
		return rows.maybe(found[0], rows.workspace);
	}

	async renameWorkspace(id: WorkspaceId, name: string): Promise<void> {
		await this.#query('UPDATE workspaces SET name = $1 WHERE id = $2', [name, id]);
	}

	async deleteWorkspace(id: WorkspaceId): Promise<void> {
		// Appends already queued here for this workspace land first, then go with it.
		await this.#committer.flush();
		await this.#transaction(async (client) => {
			await client.query(
				'DELETE FROM updates WHERE room IN (SELECT room FROM rooms WHERE workspace = $1)',
				[id]
			);
			await client.query('DELETE FROM rooms WHERE workspace = $1', [id]);
			await client.query('DELETE FROM active_runs WHERE workspace = $1', [id]);
			// Members, invites, API keys and datasets go by ON DELETE CASCADE.
			await client.query('DELETE FROM workspaces WHERE id = $1', [id]);
		});
	}

	async listWorkspaces(): Promise<Workspace[]> {
		return (await this.#query('SELECT * FROM workspaces ORDER BY created_at, id')).map(
			rows.workspace
		);
	}

	async listWorkspacesOf(userId: UserId): Promise<Array<Workspace & { role: Role }>> {
		return (
			await this.#query(
				`SELECT w.*, m.role FROM workspaces w JOIN members m ON m.workspace = w.id
				 WHERE m.user_id = $1 ORDER BY w.created_at, w.id`,
				[userId]
			)
		).map((r) => ({ ...rows.workspace(r), role: r.role as Role }));
	}

	async getMember(workspace: WorkspaceId, userId: UserId): Promise<Member | null> {
		const found = await this.#query('SELECT * FROM members WHERE workspace = $1 AND user_id = $2', [
			workspace,
			userId
		]);
		return rows.maybe(found[0], rows.member);
	}

	async listMembers(workspace: WorkspaceId): Promise<Member[]> {
		return (
			await this.#query('SELECT * FROM members WHERE workspace = $1 ORDER BY joined_at, user_id', [
				workspace
			])
		).map(rows.member);
	}

	async putMember(member: Member): Promise<void> {
		await this.#query(
			`INSERT INTO members (workspace, user_id, role, joined_at) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (workspace, user_id) DO UPDATE SET role = EXCLUDED.role`,
			[member.workspace, member.userId, member.role, member.joinedAt]
		);
	}

	async removeMember(workspace: WorkspaceId, userId: UserId): Promise<void> {
		await this.#query('DELETE FROM members WHERE workspace = $1 AND user_id = $2', [
			workspace,
			userId
		]);
	}

	async createInvite(invite: Invite): Promise<void> {
		await this.#query(
			`INSERT INTO invites (token_hash, workspace, email, role, created_by, expires_at, used_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			[
				invite.tokenHash,
				invite.workspace,
				invite.email,
				invite.role,
				invite.createdBy,
				invite.expiresAt,
				invite.usedAt
			]
		);
	}

	async getInvite(tokenHash: string): Promise<Invite | null> {
		const found = await this.#query('SELECT * FROM invites WHERE token_hash = $1', [tokenHash]);
		return rows.maybe(found[0], rows.invite);
	}

	async useInvite(tokenHash: string, at: number): Promise<boolean> {
		// One statement: concurrent callers queue on the row lock and re-check used_at.
		const result = await this.#pool.query(
			'UPDATE invites SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL',
			[at, tokenHash]
		);
		return result.rowCount === 1;
	}

	async createApiKey(key: ApiKey): Promise<void> {
		await this.#query(
			`INSERT INTO api_keys (id, workspace, name, key_hash, created_by, created_at, revoked_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			[key.id, key.workspace, key.name, key.keyHash, key.createdBy, key.createdAt, key.revokedAt]
		);
	}

	async getApiKeyByHash(keyHash: string): Promise<ApiKey | null> {
		const found = await this.#query('SELECT * FROM api_keys WHERE key_hash = $1', [keyHash]);
		return rows.maybe(found[0], rows.apiKey);
	}

	async listApiKeys(workspace: WorkspaceId): Promise<ApiKey[]> {
		return (
			await this.#query('SELECT * FROM api_keys WHERE workspace = $1 ORDER BY created_at, id', [
				workspace
			])
		).map(rows.apiKey);
	}

	async revokeApiKey(workspace: WorkspaceId, id: string, at: number): Promise<boolean> {
		const result = await this.#pool.query(
			'UPDATE api_keys SET revoked_at = $1 WHERE workspace = $2 AND id = $3 AND revoked_at IS NULL',
			[at, workspace, id]
		);
		return result.rowCount === 1;
	}

	async putDataset(dataset: Dataset, content: Uint8Array): Promise<void> {
		await this.#query(
			`INSERT INTO datasets (workspace, id, name, created_by, created_at, bytes, content)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)
			 ON CONFLICT (workspace, id) DO UPDATE SET name = EXCLUDED.name,
			   created_by = EXCLUDED.created_by, created_at = EXCLUDED.created_at,
			   bytes = EXCLUDED.bytes, content = EXCLUDED.content`,
			[
				dataset.workspace,
				dataset.id,
				dataset.name,
				dataset.createdBy,
				dataset.createdAt,
				content.byteLength,
				content
			]
		);
	}

	async listDatasets(workspace: WorkspaceId): Promise<Dataset[]> {
		return (
			await this.#query(
				`SELECT workspace, id, name, created_by, created_at, bytes FROM datasets
				 WHERE workspace = $1 ORDER BY created_at, id`,
				[workspace]
			)
		).map(rows.dataset);
	}

	async getDataset(
		workspace: WorkspaceId,
		id: string
	): Promise<{ dataset: Dataset; content: Uint8Array } | null> {
		const row = (
			await this.#query('SELECT * FROM datasets WHERE workspace = $1 AND id = $2', [workspace, id])
		)[0];
		return row ? { dataset: rows.dataset(row), content: rows.blob(row.content) } : null;
	}

	async deleteDataset(workspace: WorkspaceId, id: string): Promise<boolean> {
		const result = await this.#pool.query('DELETE FROM datasets WHERE workspace = $1 AND id = $2', [
			workspace,
			id
		]);
		return result.rowCount === 1;
	}

	// Runs

	async markRunActive(workspace: WorkspaceId, run: RunId, owner = ''): Promise<void> {
		await this.#query(
			'INSERT INTO active_runs (workspace, run, owner) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
			[workspace, run, owner]
		);
	}

	async markRunEnded(workspace: WorkspaceId, run: RunId): Promise<void> {
		await this.#query('DELETE FROM active_runs WHERE workspace = $1 AND run = $2', [
			workspace,
			run
		]);
	}

	async listActiveRuns(
		owner?: string
	): Promise<Array<{ workspace: WorkspaceId; run: RunId; owner: string }>> {
		const rows =
			owner === undefined
				? await this.#query('SELECT workspace, run, owner FROM active_runs ORDER BY workspace, run')
				: await this.#query(
						'SELECT workspace, run, owner FROM active_runs WHERE owner = $1 ORDER BY workspace, run',
						[owner]
					);
		return rows.map((r) => ({
			workspace: r.workspace as WorkspaceId,
			run: r.run as RunId,
			owner: r.owner as string
		}));
	}

	async addActiveRun(e: ActiveRun): Promise<void> {
		await this.#query(
			`INSERT INTO active_runs (workspace, run, owner, runner, agent, state, claimed_by, queued_at, heartbeat_at, stop_requested, requeue, sweep)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
			[
				e.workspace,
				e.run,
				e.owner,
				e.runner,
				e.agent,
				e.state,
				e.claimedBy,
				e.queuedAt,
				e.heartbeatAt,
				e.stopRequested ? 1 : 0,
				e.requeue ? 1 : 0,
				e.sweep ?? ''
			]
		);
	}

	async claimRun(q: ClaimQuery): Promise<ActiveRun | null> {
		// Claims from every process take one advisory lock in turn: select and update are
		// one step, so each run is handed out once (and one per workspace holds).
		return this.#transaction(async (client) => {
			await client.query('SELECT pg_advisory_xact_lock($1, $2)', [
				0x456e73,
				hash32(`ensemble-run-queue:${this.schema}`)
			]);
			const queued = (
				await client.query(
					`SELECT * FROM active_runs WHERE state = 'queued' ORDER BY queued_at, run`
				)
			).rows as Row[];
			const running = (
				await client.query(
					`SELECT workspace, runner, claimed_by FROM active_runs WHERE state = 'running'`
				)
			).rows as Row[];
			const pick = pickClaim(queued.map(rows.activeRun), running.map(rows.activeRunKey), q);
			if (!pick) return null;
			const updated = await client.query(
				`UPDATE active_runs SET state = 'running', claimed_by = $1, owner = $2, heartbeat_at = $3
				WHERE workspace = $4 AND run = $5 AND state = 'queued'`,
				[q.claimedBy, q.owner, q.now, pick.workspace, pick.run]
			);
			if (updated.rowCount !== 1) return null;
			return {
				...pick,
				state: 'running',
				claimedBy: q.claimedBy,
				owner: q.owner,
				heartbeatAt: q.now
			};
		});
	}

	async heartbeatRun(
		workspace: WorkspaceId,
		run: RunId,
		claimedBy: string,
		now: number
	): Promise<ActiveRun | null> {
		const found = await this.#query(
			`UPDATE active_runs SET heartbeat_at = $1
			WHERE workspace = $2 AND run = $3 AND state = 'running' AND claimed_by = $4 RETURNING *`,
			[now, workspace, run, claimedBy]
		);
		return rows.maybe(found[0], rows.activeRun);
	}

	async requestStop(workspace: WorkspaceId, run: RunId): Promise<ActiveRun | null> {
		const removed = await this.#query(
			`DELETE FROM active_runs WHERE workspace = $1 AND run = $2 AND state = 'queued' RETURNING *`,
			[workspace, run]
		);
		if (removed[0]) return rows.activeRun(removed[0]);
		const flagged = await this.#query(
			`UPDATE active_runs SET stop_requested = 1 WHERE workspace = $1 AND run = $2 RETURNING *`,
			[workspace, run]
		);
		return rows.maybe(flagged[0], rows.activeRun);
	}

	async takeStaleRuns(before: number): Promise<ActiveRun[]> {
		const stale = await this.#query(
			`DELETE FROM active_runs WHERE state = 'running' AND heartbeat_at < $1 RETURNING *`,
			[before]
		);
		return stale.map(rows.activeRun);
	}

	async listQueue(workspace?: WorkspaceId): Promise<ActiveRun[]> {
		const list =
			workspace === undefined
				? await this.#query('SELECT * FROM active_runs ORDER BY queued_at, run')
				: await this.#query(
						'SELECT * FROM active_runs WHERE workspace = $1 ORDER BY queued_at, run',
						[workspace]
					);
		return list.map(rows.activeRun);
	}

	async addSweep(r: SweepRow): Promise<void> {
		await this.#query(
			`INSERT INTO sweeps (workspace, id, definition, created_by, created_at, state, ended_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			[r.workspace, r.id, r.definition, r.createdBy, r.createdAt, r.state, r.endedAt]
		);
	}

	async listSweeps(workspace: WorkspaceId, id?: string): Promise<SweepRow[]> {
		const list =
			id === undefined
				? await this.#query('SELECT * FROM sweeps WHERE workspace = $1 ORDER BY created_at, id', [
						workspace
					])
				: await this.#query('SELECT * FROM sweeps WHERE workspace = $1 AND id = $2', [
						workspace,
						id
					]);
		return list.map(rows.sweep);
	}

	async stopSweep(workspace: WorkspaceId, id: string, at: number): Promise<boolean> {
		const updated = await this.#query(
			`UPDATE sweeps SET state = 'stopped', ended_at = $1
			WHERE workspace = $2 AND id = $3 AND state = 'running' RETURNING id`,
			[at, workspace, id]
		);
		return updated.length === 1;
	}

	async healthy(): Promise<boolean> {
		if (this.#closed) return false;
		try {
			// Through our own schema: a reachable server without our tables is not ready.
			await this.#query('SELECT version FROM schema_migrations LIMIT 1');
			return true;
		} catch (err) {
			this.#logger.warn({ err }, 'postgres: health check failed');
			return false;
		}
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		await this.#committer.close();
		this.#closed = true;
		await this.#pool.end();
	}
}

/** FNV-1a: a stable 32-bit advisory-lock key per schema. */
function hash32(text: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h | 0;
}
