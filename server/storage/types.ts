// The storage interface: every implementation (memory, SQLite, PostgreSQL) passes
// the same contract suite (tests/storage/contract.ts). Storage knows nothing of
// sockets or HTTP.

import type { RoomName } from '../protocol/docs.ts';
import type { RunId, UserId, WorkspaceId } from '../protocol/ids.ts';
import type { Role } from '../protocol/roles.ts';

export interface UpdateRecord {
	readonly room: RoomName;
	readonly update: Uint8Array;
	/** Who wrote it; null for the server itself (training, compat, migrations). */
	readonly author: UserId | null;
	/** Milliseconds since the epoch, from the injected clock. */
	readonly at: number;
}

export interface StoredUpdate extends UpdateRecord {
	/** Position in the document's log; strictly increasing per room. */
	readonly seq: number;
}

export interface LoadedDoc {
	/** The compacted state (a Yjs update), or null before the first compaction. */
	readonly snapshot: Uint8Array | null;
	/** Updates after the snapshot, in order. */
	readonly updates: readonly StoredUpdate[];
	/** The seq of the last update folded in or listed; 0 for an empty document. */
	readonly lastSeq: number;
}

/** One entry of a document's history: who changed it, when, and how much. */
export interface HistoryEntry {
	readonly seq: number;
	readonly author: UserId | null;
	readonly at: number;
	readonly bytes: number;
}

export interface User {
	readonly id: UserId;
	readonly name: string;
	readonly email: string;
	readonly passwordHash: string;
	readonly createdAt: number;
}

export interface Session {
	readonly tokenHash: string;
	readonly userId: UserId;
	readonly expiresAt: number;
}

export interface Workspace {
	readonly id: WorkspaceId;
	readonly name: string;
	readonly createdAt: number;
}

export interface Member {
	readonly workspace: WorkspaceId;
	readonly userId: UserId;
	readonly role: Role;
	readonly joinedAt: number;
}

export interface Invite {
	readonly tokenHash: string;
	readonly workspace: WorkspaceId;
	readonly email: string;
	readonly role: Role;
	readonly createdBy: UserId;
	readonly expiresAt: number;
	/** When it was used, or null while unused. */
	readonly usedAt: number | null;
}

export interface ApiKey {
	readonly id: string;
	readonly workspace: WorkspaceId;
	readonly name: string;
	readonly keyHash: string;
	readonly createdBy: UserId;
	readonly createdAt: number;
	readonly revokedAt: number | null;
}

export interface Dataset {
	readonly id: string;
	readonly workspace: WorkspaceId;
	readonly name: string;
	readonly createdBy: UserId | null;
	readonly createdAt: number;
	readonly bytes: number;
}

export interface DocumentStore {
	/**
	 * Appends updates durably (committed and, with the default settings, synced to
	 * disk) and resolves with their seqs only then. Calls made in the same tick are
	 * committed together in one transaction (group commit). Rejects if the write
	 * failed; nothing is then reported as stored.
	 */
	appendUpdates(records: readonly UpdateRecord[]): Promise<number[]>;
	loadDoc(room: RoomName): Promise<LoadedDoc>;
	/**
	 * Replaces the log up to `upToSeq` by `snapshot` (the document state at that
	 * seq). History entries (author, time, size) are kept.
	 */
	compact(room: RoomName, snapshot: Uint8Array, upToSeq: number): Promise<void>;
	/** Newest first. */
	history(
		room: RoomName,
		options?: { limit?: number; beforeSeq?: number }
	): Promise<HistoryEntry[]>;
	/** Every room of a workspace that has stored content (for export and delete). */
	listRooms(workspace: WorkspaceId): Promise<RoomName[]>;
}

export interface AccountStore {
	createUser(user: User): Promise<void>;
	getUserById(id: UserId): Promise<User | null>;
	/** E-mail addresses compare case-insensitively. */
	getUserByEmail(email: string): Promise<User | null>;
	setPassword(id: UserId, passwordHash: string): Promise<void>;
	listUsers(): Promise<User[]>;

	createSession(session: Session): Promise<void>;
	getSession(tokenHash: string): Promise<Session | null>;
	deleteSession(tokenHash: string): Promise<void>;
	deleteSessionsOf(userId: UserId): Promise<void>;
}

export interface WorkspaceStore {
	/** Creates the workspace with `owner` as its first member, role owner. */
	createWorkspace(workspace: Workspace, owner: UserId): Promise<void>;
	getWorkspace(id: WorkspaceId): Promise<Workspace | null>;
	renameWorkspace(id: WorkspaceId, name: string): Promise<void>;
	/** Deletes the workspace with its members, invites, keys, datasets and documents. */
	deleteWorkspace(id: WorkspaceId): Promise<void>;
	listWorkspaces(): Promise<Workspace[]>;
	listWorkspacesOf(userId: UserId): Promise<Array<Workspace & { role: Role }>>;

	getMember(workspace: WorkspaceId, userId: UserId): Promise<Member | null>;
	listMembers(workspace: WorkspaceId): Promise<Member[]>;
	/** Adds the member, or changes the role of an existing one. */
	putMember(member: Member): Promise<void>;
	removeMember(workspace: WorkspaceId, userId: UserId): Promise<void>;

	createInvite(invite: Invite): Promise<void>;
	getInvite(tokenHash: string): Promise<Invite | null>;
	/** Marks the invite used; false if it was already used (single use under races). */
	useInvite(tokenHash: string, at: number): Promise<boolean>;

	createApiKey(key: ApiKey): Promise<void>;
	getApiKeyByHash(keyHash: string): Promise<ApiKey | null>;
	listApiKeys(workspace: WorkspaceId): Promise<ApiKey[]>;
	revokeApiKey(workspace: WorkspaceId, id: string, at: number): Promise<boolean>;

	putDataset(dataset: Dataset, content: Uint8Array): Promise<void>;
	listDatasets(workspace: WorkspaceId): Promise<Dataset[]>;
	getDataset(
		workspace: WorkspaceId,
		id: string
	): Promise<{ dataset: Dataset; content: Uint8Array } | null>;
	deleteDataset(workspace: WorkspaceId, id: string): Promise<boolean>;
}

/** Where a run executes (RunRecord.runner). `external`: a script reporting on its own. */
export type RunnerKind = 'builtin' | 'server' | 'agent' | 'any' | 'external';

/**
 * A run that has not ended: queued (waiting for an executor) or running (claimed
 * by one, which heartbeats). The queue survives restarts and is shared by every
 * process on one PostgreSQL; a claim hands a run to exactly one claimant.
 */
export interface ActiveRun {
	readonly workspace: WorkspaceId;
	readonly run: RunId;
	readonly runner: RunnerKind;
	/** The agent asked for ('' for any). */
	readonly agent: string;
	readonly state: 'queued' | 'running';
	/** The process that runs it (server runs), for recovery after a restart. */
	readonly owner: string;
	/** Who holds the claim: `server:<instance>`, `agent:<name>`, `script`. */
	readonly claimedBy: string;
	readonly queuedAt: number;
	readonly heartbeatAt: number;
	/** Someone asked it to stop; its executor sees this on its next heartbeat. */
	readonly stopRequested: boolean;
	/** Queue it again if its executor is lost. */
	readonly requeue: boolean;
	/** The sweep it belongs to ('' or absent: none). */
	readonly sweep?: string;
}

/** A sweep as stored: its definition (JSON) and whether it was stopped. */
export interface SweepRow {
	readonly workspace: WorkspaceId;
	readonly id: string;
	readonly definition: string;
	readonly createdBy: string;
	readonly createdAt: number;
	readonly state: 'running' | 'stopped';
	readonly endedAt: number | null;
}

export interface ClaimQuery {
	readonly runners: readonly RunnerKind[];
	/** Only this workspace's runs (agents serve the workspace of their key). */
	readonly workspace?: WorkspaceId;
	/** The claimant's agent name: runs asking for any agent or this one. */
	readonly agent?: string;
	/** Skip workspaces that already have a running run of these runners. */
	readonly onePerWorkspace: boolean;
	readonly claimedBy: string;
	readonly owner: string;
	readonly now: number;
}

/**
 * Runs that have not ended, so that a restart can mark them interrupted and a
 * lost executor is noticed. `owner` names the process that runs them (several
 * processes share one PostgreSQL: a restarting process must not end another's runs).
 */
export interface RunStore {
	/** A run that runs at once (built-in runs in tests, scripts): state `running`. */
	markRunActive(workspace: WorkspaceId, run: RunId, owner?: string): Promise<void>;
	markRunEnded(workspace: WorkspaceId, run: RunId): Promise<void>;
	/** Every active run, or only `owner`'s when given. */
	listActiveRuns(
		owner?: string
	): Promise<Array<{ workspace: WorkspaceId; run: RunId; owner: string }>>;
	/** Adds a run to the queue (or, with state `running`, as already claimed). */
	addActiveRun(entry: ActiveRun): Promise<void>;
	/** Atomically hands the oldest matching queued run to one claimant, or null. */
	claimRun(query: ClaimQuery): Promise<ActiveRun | null>;
	/** The claimant is alive; returns the row (null if it no longer holds the claim). */
	heartbeatRun(
		workspace: WorkspaceId,
		run: RunId,
		claimedBy: string,
		now: number
	): Promise<ActiveRun | null>;
	/**
	 * A queued run is removed (returned with state `queued`: the caller ends it);
	 * a running one is flagged (returned with state `running`); null if not active.
	 */
	requestStop(workspace: WorkspaceId, run: RunId): Promise<ActiveRun | null>;
	/** Removes and returns running runs whose last heartbeat is before `before` (each to one caller). */
	takeStaleRuns(before: number): Promise<ActiveRun[]>;
	/** The workspace's active runs, oldest first (every one when workspace is omitted). */
	listQueue(workspace?: WorkspaceId): Promise<ActiveRun[]>;
	addSweep(row: SweepRow): Promise<void>;
	/** The workspace's sweeps, oldest first; one when `id` is given. */
	listSweeps(workspace: WorkspaceId, id?: string): Promise<SweepRow[]>;
	/** Marks a running sweep stopped; false when it was not running. */
	stopSweep(workspace: WorkspaceId, id: string, at: number): Promise<boolean>;
}

/** One entry of a workspace's activity feed (server/history writes them). */
export interface ActivityRecord {
	readonly workspace: WorkspaceId;
	/** Sorts by creation: newest first is `id` descending. */
	readonly id: string;
	/** ms since the epoch; a merged entry carries its latest change's time. */
	readonly at: number;
	/** Who did it; null for the server. */
	readonly user: UserId | null;
	readonly kind: string;
	readonly summary: string;
	/** JSON details (field, file, run, seqs…). */
	readonly data: Record<string, unknown>;
	/** Entries that may be merged into (one person's edits to one file); null never. */
	readonly mergeKey: string | null;
}

export interface ActivityQuery {
	readonly limit: number;
	/** Entries older than this id. */
	readonly before?: string;
	readonly user?: UserId;
	readonly kinds?: readonly string[];
	/** Only entries at or after / at or before these times (ms). */
	readonly from?: number;
	readonly to?: number;
}

/** A stored update of the history copy; `update` is null where compaction dropped it before history was kept. */
export interface ArchivedUpdate {
	readonly seq: number;
	readonly author: UserId | null;
	readonly at: number;
	readonly update: Uint8Array | null;
}

/** A document's full state (gc off) at `seq`, to rebuild later moments from. */
export interface Checkpoint {
	readonly room: RoomName;
	readonly seq: number;
	readonly at: number;
	readonly state: Uint8Array;
}

/** The summarising of one room from `fromSeq` to `toSeq`, stored in one transaction. */
export interface HistoryAdvance {
	readonly room: RoomName;
	readonly fromSeq: number;
	readonly toSeq: number;
	/** New entries, or entries with an existing id to replace (merged). */
	readonly entries: readonly ActivityRecord[];
	readonly checkpoint: Checkpoint | null;
}

/**
 * What history keeps beside the log (issue 13): the update bytes of `params`,
 * `code` and `live` survive compaction (STORE5), checkpoints, the activity feed
 * and, per room, the seq the feed has summarised.
 */
export interface ArchiveStore {
	/** Updates with seq in (afterSeq, toSeq], oldest first, at most `limit`. */
	readUpdates(
		room: RoomName,
		afterSeq: number,
		toSeq: number,
		limit: number
	): Promise<ArchivedUpdate[]>;
	/** The last seq stored at or before `at` (0: none). */
	seqAt(room: RoomName, at: number): Promise<number>;
	/** The latest checkpoint at or before `seq`. */
	checkpointAtOrBefore(room: RoomName, seq: number): Promise<Checkpoint | null>;
	/** The seq up to which the activity feed summarised `room` (0: nothing yet). */
	cursor(room: RoomName): Promise<number>;
	/**
	 * Moves the cursor from `fromSeq` to `toSeq` and stores the entries and the
	 * checkpoint, all or nothing; false (nothing stored) when the cursor was not
	 * at `fromSeq` (another process summarised those updates).
	 */
	advance(step: HistoryAdvance): Promise<boolean>;
	/** Entries from explicit events (members, …). */
	addActivity(entries: readonly ActivityRecord[]): Promise<void>;
	/** Newest first. */
	listActivity(workspace: WorkspaceId, query: ActivityQuery): Promise<ActivityRecord[]>;
	/** The newest entry with this merge key at or after `since` (ms). */
	mergeable(
		workspace: WorkspaceId,
		mergeKey: string,
		since: number
	): Promise<ActivityRecord | null>;
}

export interface Storage extends DocumentStore, AccountStore, WorkspaceStore, RunStore {
	readonly kind: 'memory' | 'sqlite' | 'postgres';
	readonly archive: ArchiveStore;
	/** True while the store can be written (for /readyz). */
	healthy(): Promise<boolean>;
	/** Flushes pending writes and closes. */
	close(): Promise<void>;
}
