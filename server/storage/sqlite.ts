// SQLite storage on Node's built-in node:sqlite (no native addon): one file under
// DATA_DIR, WAL, synchronous=FULL so that a commit is on disk before it resolves.
// Group commits run on a writer thread with its own connection (sqliteWriter.ts);
// everything else runs synchronously on this thread's connection.
// Methods are async without awaiting so that every failure is a rejection.
/* eslint-disable @typescript-eslint/require-await */

import { once } from 'node:events';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type { RoomName } from '../protocol/docs.ts';
import type { RunId, UserId, WorkspaceId } from '../protocol/ids.ts';
import type { Role } from '../protocol/roles.ts';
import { silentLogger, systemClock, type Clock, type Logger } from '../runtime.ts';
import {
	checkCompaction,
	emailKey,
	keepsHistory,
	historyLimit,
	lastSeqOfDump,
	workspaceOfRoom,
	type DocumentDump,
	type EnsembleStorage,
	type StorageOptions
} from './common.ts';
import { GroupCommitter } from './groupCommit.ts';
import { SqlArchive, type SqlMode, type SqlPlan } from './archive.ts';
import { pickClaim } from './common.ts';
import * as rows from './rows.ts';
import {
	migrateSqlite,
	openSqlite,
	runPlanSync,
	SqliteCommitter,
	sqliteTransaction
} from './sqliteConnection.ts';
import type { WriterReply, WriterRequest } from './sqliteWriter.ts';
import type {
	HistoryAdvance,
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

export interface SqliteStorageOptions extends StorageOptions {
	/** The database file (created when missing). */
	readonly path: string;
	readonly clock?: Clock;
	readonly logger?: Logger;
	/**
	 * Where group commits run. 'worker' (default): a writer thread with its own
	 * connection, so the fsync of each commit never blocks the event loop.
	 * 'inline': on the calling thread (simpler; each commit blocks it for the fsync).
	 */
	readonly writer?: 'worker' | 'inline';
}

type Row = Record<string, unknown>;

export class SqliteStorage implements EnsembleStorage {
	readonly kind = 'sqlite' as const;
	readonly path: string;
	/** The open database, for backupSqlite. */
	readonly db: DatabaseSync;
	readonly #committer: GroupCommitter;
	readonly #clock: Clock;
	readonly #logger: Logger;
	readonly #statements = new Map<string, StatementSync>();
	/** Whether commits go to a writer thread ('worker'), started when first needed. */
	readonly #useWorker: boolean;
	#worker: Worker | null = null;
	readonly #outstanding = new Map<
		number,
		{ resolve: (reply: WriterReply) => void; reject: (error: Error) => void }
	>();
	#nextId = 1;
	#writerFailed: Error | null = null;
	#closing = false;
	#closePromise: Promise<void> | null = null;
	#closed = false;
	readonly archive = new SqlArchive({
		run: async <T>(plan: SqlPlan<T>, mode: SqlMode): Promise<T> =>
			mode === 'read'
				? this.#runPlan(plan)
				: this.#transaction(() => this.#runPlan(plan), mode === 'durable'),
		advance: (step) => (this.#useWorker ? this.#advanceInWorker(step) : null)
	});

	constructor(options: SqliteStorageOptions) {
		this.path = options.path;
		this.#clock = options.clock ?? systemClock;
		const logger = (options.logger ?? silentLogger).child({ storage: 'sqlite' });
		this.#logger = logger;
		this.db = openSqlite(options.path);
		try {
			migrateSqlite(this.db, this.#clock, options.path);
		} catch (error) {
			this.db.close();
			throw error;
		}
		this.#useWorker = (options.writer ?? 'worker') === 'worker';
		if (this.#useWorker) {
			this.#committer = new GroupCommitter({
				commit: (records) => this.#commitInWorker(records),
				logger,
				onCommit: options.onCommit
			});
		} else {
			const inline = new SqliteCommitter(this.db);
			this.#committer = new GroupCommitter({
				commit: (records) => {
					if (this.#closed) return Promise.reject(new Error('storage is closed'));
					return Promise.resolve(
						inline.commit(records, () => this.#committer.checkInjectedFailure())
					);
				},
				logger,
				onCommit: options.onCommit
			});
		}
	}

	/**
	 * The writer thread, started when a document is first opened or written: a
	 * server nobody has used yet does not hold its isolate (about 12 MB).
	 */
	#writer(): Worker {
		this.#worker ??= this.#startWriter();
		return this.#worker;
	}

	#startWriter(): Worker {
		const worker = new Worker(new URL('./sqliteWriter.ts', import.meta.url), {
			workerData: { path: this.path }
		});
		// Referenced only while a commit is outstanding, so an idle store never keeps the process alive.
		worker.unref();
		worker.on('message', (reply: WriterReply) => {
			const pending = this.#outstanding.get(reply.id);
			if (!pending) return;
			this.#outstanding.delete(reply.id);
			if (this.#outstanding.size === 0) worker.unref();
			if ('error' in reply)
				pending.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
			else pending.resolve(reply);
		});
		const fail = (error: Error) => {
			this.#writerFailed = error;
			this.#logger.error({ err: error }, 'sqlite: the writer thread stopped; appends now fail');
			for (const p of this.#outstanding.values()) p.reject(error);
			this.#outstanding.clear();
		};
		worker.on('error', fail);
		worker.on('exit', (code) => {
			if (!this.#closing) fail(new Error(`sqlite writer thread exited (code ${code})`));
		});
		return worker;
	}

	async #commitInWorker(records: readonly UpdateRecord[]): Promise<number[]> {
		const failure = this.#committer.takeInjectedFailure();
		const reply = await this.#ask((id) => ({
			id,
			records,
			...(failure ? { fail: failure.message } : {})
		}));
		if (!('seqs' in reply)) throw new Error('the writer thread answered a commit without seqs');
		return reply.seqs;
	}

	/** The summariser's transaction, on the writer thread beside the commits (HIST9). */
	async #advanceInWorker(step: HistoryAdvance): Promise<boolean> {
		if (this.#closing) throw new Error('storage is closed');
		const reply = await this.#ask((id) => ({ id, advance: step }));
		if (!('moved' in reply)) throw new Error('the writer thread answered an advance without moved');
		return reply.moved;
	}

	#ask(request: (id: number) => WriterRequest): Promise<WriterReply> {
		if (this.#writerFailed) return Promise.reject(this.#writerFailed);
		const worker = this.#writer();
		const id = this.#nextId++;
		return new Promise<WriterReply>((resolve, reject) => {
			this.#outstanding.set(id, { resolve, reject });
			worker.ref();
			worker.postMessage(request(id));
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

	#sql(sql: string): StatementSync {
		if (this.#closed) throw new Error('storage is closed');
		let st = this.#statements.get(sql);
		if (!st) {
			st = this.db.prepare(sql);
			this.#statements.set(sql, st);
		}
		return st;
	}
	#get(sql: string, ...params: SQLInputValue[]): Row | undefined {
		return this.#sql(sql).get(...params);
	}
	#all(sql: string, ...params: SQLInputValue[]): Row[] {
		return this.#sql(sql).all(...params);
	}
	#run(sql: string, ...params: SQLInputValue[]): number {
		return Number(this.#sql(sql).run(...params).changes);
	}
	#runPlan<T>(plan: SqlPlan<T>): T {
		if (this.#closed) throw new Error('storage is closed');
		return runPlanSync(plan, (sql, params) => this.#all(sql, ...params));
	}
	/** A read transaction: one snapshot even while the writer thread commits. */
	#read<T>(fn: () => T): T {
		if (this.#closed) throw new Error('storage is closed');
		this.db.exec('BEGIN');
		try {
			return fn();
		} finally {
			this.db.exec('COMMIT');
		}
	}

	#transaction<T>(fn: () => T, durable = true): T {
		if (this.#closed) throw new Error('storage is closed');
		return sqliteTransaction(this.db, fn, durable);
	}

	async appendUpdates(records: readonly UpdateRecord[]): Promise<number[]> {
		return this.#committer.append(records);
	}

	async loadDoc(room: RoomName): Promise<LoadedDoc> {
		// An opened document is usually written next: start the writer once the
		// load has been answered (starting a thread costs the caller ~3 ms).
		if (this.#useWorker && !this.#worker) {
			setImmediate(() => {
				if (!this.#closing && !this.#writerFailed) this.#writer();
			});
		}
		return this.#read(() => this.#loadDoc(room));
	}

	#loadDoc(room: RoomName): LoadedDoc {
		const head = this.#get(
			'SELECT last_seq, snapshot, snapshot_seq FROM rooms WHERE room = ?',
			room
		);
		if (!head) return { snapshot: null, updates: [], lastSeq: 0 };
		const updates = this.#all(
			'SELECT seq, author, at, data FROM updates WHERE room = ? AND seq > ? ORDER BY seq',
			room,
			Number(head.snapshot_seq)
		).map((r) => rows.storedUpdate(room, r));
		return {
			snapshot: rows.blobOrNull(head.snapshot),
			updates,
			lastSeq: Number(head.last_seq)
		};
	}

	async compact(room: RoomName, snapshot: Uint8Array, upToSeq: number): Promise<void> {
		this.#transaction(() => {
			const head = this.#get('SELECT last_seq, snapshot_seq FROM rooms WHERE room = ?', room);
			checkCompaction(room, upToSeq, head ? Number(head.last_seq) : 0);
			if (upToSeq <= Number(head!.snapshot_seq)) return;
			this.#run(
				'UPDATE rooms SET snapshot = ?, snapshot_seq = ? WHERE room = ?',
				snapshot,
				upToSeq,
				room
			);
			// The history copy: params, code and live keep their update bytes (HIST1).
			if (keepsHistory(room)) return;
			this.#run(
				'UPDATE updates SET data = NULL WHERE room = ? AND seq <= ? AND data IS NOT NULL',
				room,
				upToSeq
			);
		});
	}

	async history(
		room: RoomName,
		options: { limit?: number; beforeSeq?: number } = {}
	): Promise<HistoryEntry[]> {
		const limit = historyLimit(options.limit);
		return this.#all(
			'SELECT seq, author, at, bytes FROM updates WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
			room,
			options.beforeSeq ?? Number.MAX_SAFE_INTEGER,
			limit
		).map(rows.historyEntry);
	}

	async listRooms(workspace: WorkspaceId): Promise<RoomName[]> {
		return this.#all('SELECT room FROM rooms WHERE workspace = ? ORDER BY room', workspace).map(
			(r) => r.room as RoomName
		);
	}

	async dumpDocument(room: RoomName): Promise<DocumentDump> {
		return this.#read(() => this.#dumpDocument(room));
	}

	#dumpDocument(room: RoomName): DocumentDump {
		const head = this.#get('SELECT snapshot, snapshot_seq FROM rooms WHERE room = ?', room);
		if (!head) return { snapshot: null, snapshotSeq: 0, updates: [], history: [] };
		const all = this.#all(
			'SELECT seq, author, at, bytes, data FROM updates WHERE room = ? ORDER BY seq',
			room
		);
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
	}

	async restoreDocument(room: RoomName, dump: DocumentDump): Promise<void> {
		this.#transaction(() => {
			if (this.#get('SELECT 1 AS x FROM rooms WHERE room = ?', room)) {
				throw new Error(`restore ${room}: the room already has content`);
			}
			this.#run(
				'INSERT INTO rooms (room, workspace, last_seq, snapshot, snapshot_seq) VALUES (?, ?, ?, ?, ?)',
				room,
				workspaceOfRoom(room),
				lastSeqOfDump(dump),
				dump.snapshot,
				dump.snapshotSeq
			);
			const data = new Map(dump.updates.map((u) => [u.seq, u.update]));
			for (const h of dump.history) {
				this.#run(
					'INSERT INTO updates (room, seq, author, at, bytes, data) VALUES (?, ?, ?, ?, ?, ?)',
					room,
					h.seq,
					h.author,
					h.at,
					h.bytes,
					data.get(h.seq) ?? null
				);
			}
		});
	}

	// Accounts

	async createUser(user: User): Promise<void> {
		this.#run(
			'INSERT INTO users (id, name, email, email_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)',
			user.id,
			user.name,
			user.email,
			emailKey(user.email),
			user.passwordHash,
			user.createdAt
		);
	}

	async getUserById(id: UserId): Promise<User | null> {
		return rows.maybe(this.#get('SELECT * FROM users WHERE id = ?', id), rows.user);
	}

	async getUserByEmail(email: string): Promise<User | null> {
		return rows.maybe(
			this.#get('SELECT * FROM users WHERE email_key = ?', emailKey(email)),
			rows.user
		);
	}

	async setPassword(id: UserId, passwordHash: string): Promise<void> {
		this.#run('UPDATE users SET password_hash = ? WHERE id = ?', passwordHash, id);
	}

	async listUsers(): Promise<User[]> {
		return this.#all('SELECT * FROM users ORDER BY created_at, id').map(rows.user);
	}

	async createSession(session: Session): Promise<void> {
		this.#run(
			'INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)',
			session.tokenHash,
			session.userId,
			session.expiresAt
		);
	}

	async getSession(tokenHash: string): Promise<Session | null> {
		return rows.maybe(
			this.#get('SELECT * FROM sessions WHERE token_hash = ?', tokenHash),
			rows.session
		);
	}

	async deleteSession(tokenHash: string): Promise<void> {
		this.#run('DELETE FROM sessions WHERE token_hash = ?', tokenHash);
	}

	async deleteSessionsOf(userId: UserId): Promise<void> {
		this.#run('DELETE FROM sessions WHERE user_id = ?', userId);
	}

	// Workspaces

	async createWorkspace(workspace: Workspace, owner: UserId): Promise<void> {
		this.#transaction(() => {
			this.#run(
				'INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)',
				workspace.id,
				workspace.name,
				workspace.createdAt
			);
			this.#run(
				"INSERT INTO members (workspace, user_id, role, joined_at) VALUES (?, ?, 'owner', ?)",
				workspace.id,
				owner,
				workspace.createdAt
			);
		});
	}

	async getWorkspace(id: WorkspaceId): Promise<Workspace | null> {
		return rows.maybe(this.#get('SELECT * FROM workspaces WHERE id = ?', id), rows.workspace);
	}

	async renameWorkspace(id: WorkspaceId, name: string): Promise<void> {
		this.#run('UPDATE workspaces SET name = ? WHERE id = ?', name, id);
	}

	async deleteWorkspace(id: WorkspaceId): Promise<void> {
		// Appends already queued for this workspace land first, then go with it.
		await this.#committer.flush();
		this.#transaction(() => {
			this.#run(
				'DELETE FROM updates WHERE room IN (SELECT room FROM rooms WHERE workspace = ?)',
				id
			);
			this.#run('DELETE FROM rooms WHERE workspace = ?', id);
			this.#run('DELETE FROM active_runs WHERE workspace = ?', id);
			// Members, invites, API keys and datasets go by ON DELETE CASCADE.
			this.#run('DELETE FROM workspaces WHERE id = ?', id);
		});
	}

	async listWorkspaces(): Promise<Workspace[]> {
		return this.#all('SELECT * FROM workspaces ORDER BY created_at, id').map(rows.workspace);
	}

	async listWorkspacesOf(userId: UserId): Promise<Array<Workspace & { role: Role }>> {
		return this.#all(
			`SELECT w.*, m.role FROM workspaces w JOIN members m ON m.workspace = w.id
			 WHERE m.user_id = ? ORDER BY w.created_at, w.id`,
			userId
		).map((r) => ({ ...rows.workspace(r), role: r.role as Role }));
	}

	async getMember(workspace: WorkspaceId, userId: UserId): Promise<Member | null> {
		return rows.maybe(
			this.#get('SELECT * FROM members WHERE workspace = ? AND user_id = ?', workspace, userId),
			rows.member
		);
	}

	async listMembers(workspace: WorkspaceId): Promise<Member[]> {
		return this.#all(
			'SELECT * FROM members WHERE workspace = ? ORDER BY joined_at, user_id',
			workspace
		).map(rows.member);
	}

	async putMember(member: Member): Promise<void> {
		this.#run(
			`INSERT INTO members (workspace, user_id, role, joined_at) VALUES (?, ?, ?, ?)
			 ON CONFLICT (workspace, user_id) DO UPDATE SET role = excluded.role`,
			member.workspace,
			member.userId,
			member.role,
			member.joinedAt
		);
	}

	async removeMember(workspace: WorkspaceId, userId: UserId): Promise<void> {
		this.#run('DELETE FROM members WHERE workspace = ? AND user_id = ?', workspace, userId);
	}

	async createInvite(invite: Invite): Promise<void> {
		this.#run(
			`INSERT INTO invites (token_hash, workspace, email, role, created_by, expires_at, used_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?)`,
			invite.tokenHash,
			invite.workspace,
			invite.email,
			invite.role,
			invite.createdBy,
			invite.expiresAt,
			invite.usedAt
		);
	}

	async getInvite(tokenHash: string): Promise<Invite | null> {
		return rows.maybe(
			this.#get('SELECT * FROM invites WHERE token_hash = ?', tokenHash),
			rows.invite
		);
	}

	async useInvite(tokenHash: string, at: number): Promise<boolean> {
		return (
			this.#run(
				'UPDATE invites SET used_at = ? WHERE token_hash = ? AND used_at IS NULL',
				at,
				tokenHash
			) === 1
		);
	}

	async createApiKey(key: ApiKey): Promise<void> {
		this.#run(
			`INSERT INTO api_keys (id, workspace, name, key_hash, created_by, created_at, revoked_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?)`,
			key.id,
			key.workspace,
			key.name,
			key.keyHash,
			key.createdBy,
			key.createdAt,
			key.revokedAt
		);
	}

	async getApiKeyByHash(keyHash: string): Promise<ApiKey | null> {
		return rows.maybe(this.#get('SELECT * FROM api_keys WHERE key_hash = ?', keyHash), rows.apiKey);
	}

	async listApiKeys(workspace: WorkspaceId): Promise<ApiKey[]> {
		return this.#all(
			'SELECT * FROM api_keys WHERE workspace = ? ORDER BY created_at, id',
			workspace
		).map(rows.apiKey);
	}

	async revokeApiKey(workspace: WorkspaceId, id: string, at: number): Promise<boolean> {
		return (
			this.#run(
				'UPDATE api_keys SET revoked_at = ? WHERE workspace = ? AND id = ? AND revoked_at IS NULL',
				at,
				workspace,
				id
			) === 1
		);
	}

	async putDataset(dataset: Dataset, content: Uint8Array): Promise<void> {
		this.#run(
			`INSERT INTO datasets (workspace, id, name, created_by, created_at, bytes, content)
			 VALUES (?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (workspace, id) DO UPDATE SET name = excluded.name,
			   created_by = excluded.created_by, created_at = excluded.created_at,
			   bytes = excluded.bytes, content = excluded.content`,
			dataset.workspace,
			dataset.id,
			dataset.name,
			dataset.createdBy,
			dataset.createdAt,
			content.byteLength,
			content
		);
	}

	async listDatasets(workspace: WorkspaceId): Promise<Dataset[]> {
		return this.#all(
			`SELECT workspace, id, name, created_by, created_at, bytes FROM datasets
			 WHERE workspace = ? ORDER BY created_at, id`,
			workspace
		).map(rows.dataset);
	}

	async getDataset(
		workspace: WorkspaceId,
		id: string
	): Promise<{ dataset: Dataset; content: Uint8Array } | null> {
		const row = this.#get('SELECT * FROM datasets WHERE workspace = ? AND id = ?', workspace, id);
		return row ? { dataset: rows.dataset(row), content: rows.blob(row.content) } : null;
	}

	async deleteDataset(workspace: WorkspaceId, id: string): Promise<boolean> {
		return this.#run('DELETE FROM datasets WHERE workspace = ? AND id = ?', workspace, id) === 1;
	}

	// Runs

	async markRunActive(workspace: WorkspaceId, run: RunId, owner = ''): Promise<void> {
		this.#run(
			'INSERT INTO active_runs (workspace, run, owner) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
			workspace,
			run,
			owner
		);
	}

	async markRunEnded(workspace: WorkspaceId, run: RunId): Promise<void> {
		this.#run('DELETE FROM active_runs WHERE workspace = ? AND run = ?', workspace, run);
	}

	async listActiveRuns(
		owner?: string
	): Promise<Array<{ workspace: WorkspaceId; run: RunId; owner: string }>> {
		const rows =
			owner === undefined
				? this.#all('SELECT workspace, run, owner FROM active_runs ORDER BY workspace, run')
				: this.#all(
						'SELECT workspace, run, owner FROM active_runs WHERE owner = ? ORDER BY workspace, run',
						owner
					);
		return rows.map((r) => ({
			workspace: r.workspace as WorkspaceId,
			run: r.run as RunId,
			owner: r.owner as string
		}));
	}

	async addActiveRun(e: ActiveRun): Promise<void> {
		this.#run(
			`INSERT INTO active_runs (workspace, run, owner, runner, agent, state, claimed_by, queued_at, heartbeat_at, stop_requested, requeue, sweep)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
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
		);
	}

	async claimRun(q: ClaimQuery): Promise<ActiveRun | null> {
		// One process per SQLite file, and the transaction makes select + update one step.
		return this.#transaction(() => {
			const candidates = this.#all(
				`SELECT * FROM active_runs WHERE state = 'queued' ORDER BY queued_at, run`
			).map(rows.activeRun);
			const running = this.#all(
				`SELECT workspace, runner, claimed_by FROM active_runs WHERE state = 'running'`
			);
			const pick = pickClaim(candidates, running.map(rows.activeRunKey), q);
			if (!pick) return null;
			this.#run(
				`UPDATE active_runs SET state = 'running', claimed_by = ?, owner = ?, heartbeat_at = ?
				WHERE workspace = ? AND run = ? AND state = 'queued'`,
				q.claimedBy,
				q.owner,
				q.now,
				pick.workspace,
				pick.run
			);
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
		this.#run(
			`UPDATE active_runs SET heartbeat_at = ? WHERE workspace = ? AND run = ? AND state = 'running' AND claimed_by = ?`,
			now,
			workspace,
			run,
			claimedBy
		);
		return rows.maybe(
			this.#get(
				`SELECT * FROM active_runs WHERE workspace = ? AND run = ? AND state = 'running' AND claimed_by = ?`,
				workspace,
				run,
				claimedBy
			),
			rows.activeRun
		);
	}

	async requestStop(workspace: WorkspaceId, run: RunId): Promise<ActiveRun | null> {
		return this.#transaction(() => {
			const row = rows.maybe(
				this.#get('SELECT * FROM active_runs WHERE workspace = ? AND run = ?', workspace, run),
				rows.activeRun
			);
			if (!row) return null;
			if (row.state === 'queued') {
				this.#run('DELETE FROM active_runs WHERE workspace = ? AND run = ?', workspace, run);
				return row;
			}
			this.#run(
				'UPDATE active_runs SET stop_requested = 1 WHERE workspace = ? AND run = ?',
				workspace,
				run
			);
			return { ...row, stopRequested: true };
		});
	}

	async takeStaleRuns(before: number): Promise<ActiveRun[]> {
		return this.#transaction(() => {
			const stale = this.#all(
				`SELECT * FROM active_runs WHERE state = 'running' AND heartbeat_at < ?`,
				before
			).map(rows.activeRun);
			for (const r of stale)
				this.#run('DELETE FROM active_runs WHERE workspace = ? AND run = ?', r.workspace, r.run);
			return stale;
		});
	}

	async listQueue(workspace?: WorkspaceId): Promise<ActiveRun[]> {
		const list =
			workspace === undefined
				? this.#all('SELECT * FROM active_runs ORDER BY queued_at, run')
				: this.#all(
						'SELECT * FROM active_runs WHERE workspace = ? ORDER BY queued_at, run',
						workspace
					);
		return list.map(rows.activeRun);
	}

	async addSweep(r: SweepRow): Promise<void> {
		this.#run(
			`INSERT INTO sweeps (workspace, id, definition, created_by, created_at, state, ended_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.workspace,
			r.id,
			r.definition,
			r.createdBy,
			r.createdAt,
			r.state,
			r.endedAt
		);
	}

	async listSweeps(workspace: WorkspaceId, id?: string): Promise<SweepRow[]> {
		const list =
			id === undefined
				? this.#all('SELECT * FROM sweeps WHERE workspace = ? ORDER BY created_at, id', workspace)
				: this.#all('SELECT * FROM sweeps WHERE workspace = ? AND id = ?', workspace, id);
		return list.map(rows.sweep);
	}

	async stopSweep(workspace: WorkspaceId, id: string, at: number): Promise<boolean> {
		return (
			this.#run(
				`UPDATE sweeps SET state = 'stopped', ended_at = ? WHERE workspace = ? AND id = ? AND state = 'running'`,
				at,
				workspace,
				id
			) === 1
		);
	}

	async healthy(): Promise<boolean> {
		if (this.#closed || this.#closing) return false;
		if (this.#writerFailed) return false;
		try {
			this.#get('SELECT version FROM schema_migrations LIMIT 1');
			return true;
		} catch (err) {
			this.#logger.warn({ err }, 'sqlite: health check failed');
			return false;
		}
	}

	close(): Promise<void> {
		this.#closePromise ??= this.#close();
		return this.#closePromise;
	}

	async #close(): Promise<void> {
		this.#closing = true;
		await this.#committer.close();
		if (this.#worker) {
			// Referenced until it has exited, or the process could end before the file is closed.
			this.#worker.ref();
			const exited = once(this.#worker, 'exit');
			this.#worker.postMessage('close');
			await exited;
		}
		this.#closed = true;
		this.#statements.clear();
		this.db.close();
	}
}

export { backupSqlite, restoreSqlite } from './sqliteBackup.ts';
