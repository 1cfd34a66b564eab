// In-memory storage for unit tests: the same contract as SQLite and PostgreSQL
// (group commit, foreign keys, single-use invites), nothing survives the process.
// Methods are async without awaiting so that every failure is a rejection, as in
// the real stores.
/* eslint-disable @typescript-eslint/require-await */

import type { RoomName } from '../protocol/docs.ts';
import type { RunId, UserId, WorkspaceId } from '../protocol/ids.ts';
import type { Role } from '../protocol/roles.ts';
import type { Logger } from '../runtime.ts';
import { silentLogger } from '../runtime.ts';
import {
	checkCompaction,
	keepsHistory,
	emailKey,
	historyLimit,
	lastSeqOfDump,
	workspaceOfRoom,
	type DocumentDump,
	type EnsembleStorage,
	pickClaim,
	type StorageOptions
} from './common.ts';
import { GroupCommitter } from './groupCommit.ts';
import { MemoryArchive } from './memoryArchive.ts';
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

interface Room {
	snapshot: Uint8Array | null;
	snapshotSeq: number;
	lastSeq: number;
	/** Every entry; `update` is null once compacted. */
	log: Array<{
		seq: number;
		author: UserId | null;
		at: number;
		bytes: number;
		update: Uint8Array | null;
	}>;
}

export class MemoryStorage implements EnsembleStorage {
	readonly kind = 'memory' as const;
	readonly #committer: GroupCommitter;
	readonly #rooms = new Map<RoomName, Room>();
	readonly #users = new Map<UserId, User>();
	readonly #sessions = new Map<string, Session>();
	readonly #workspaces = new Map<WorkspaceId, Workspace>();
	readonly #members = new Map<string, Member>();
	readonly #invites = new Map<string, Invite>();
	readonly #apiKeys = new Map<string, ApiKey>();
	readonly #datasets = new Map<string, { dataset: Dataset; content: Uint8Array }>();
	readonly #runs = new Map<string, ActiveRun>();
	readonly #sweeps = new Map<string, SweepRow>();
	#closed = false;
	readonly archive = new MemoryArchive((room) => this.#rooms.get(room)?.log ?? []);

	constructor(options: StorageOptions & { logger?: Logger } = {}) {
		this.#committer = new GroupCommitter({
			commit: (records) => Promise.resolve(this.#commitBatch(records)),
			logger: options.logger ?? silentLogger,
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

	#commitBatch(records: readonly UpdateRecord[]): number[] {
		// Work on copies of the touched rooms' counters so a failure changes nothing.
		const next = new Map<RoomName, number>();
		const seqs = records.map((r) => {
			const seq = (next.get(r.room) ?? this.#rooms.get(r.room)?.lastSeq ?? 0) + 1;
			next.set(r.room, seq);
			return seq;
		});
		this.#committer.checkInjectedFailure();
		records.forEach((r, i) => {
			const room = this.#room(r.room);
			room.log.push({
				seq: seqs[i]!,
				author: r.author,
				at: r.at,
				bytes: r.update.byteLength,
				update: r.update.slice()
			});
			room.lastSeq = seqs[i]!;
		});
		return seqs;
	}

	#room(name: RoomName): Room {
		let room = this.#rooms.get(name);
		if (!room) {
			room = { snapshot: null, snapshotSeq: 0, lastSeq: 0, log: [] };
			this.#rooms.set(name, room);
		}
		return room;
	}

	#open(): void {
		if (this.#closed) throw new Error('storage is closed');
	}

	async appendUpdates(records: readonly UpdateRecord[]): Promise<number[]> {
		return this.#committer.append(records);
	}

	async loadDoc(name: RoomName): Promise<LoadedDoc> {
		this.#open();
		const room = this.#rooms.get(name);
		if (!room) return { snapshot: null, updates: [], lastSeq: 0 };
		return {
			snapshot: room.snapshot,
			updates: room.log
				.filter((e) => e.seq > room.snapshotSeq)
				.map((e) => ({ room: name, seq: e.seq, author: e.author, at: e.at, update: e.update! })),
			lastSeq: room.lastSeq
		};
	}

	async compact(name: RoomName, snapshot: Uint8Array, upToSeq: number): Promise<void> {
		this.#open();
		const room = this.#rooms.get(name);
		checkCompaction(name, upToSeq, room?.lastSeq ?? 0);
		if (!room || upToSeq <= room.snapshotSeq) return;
		room.snapshot = snapshot.slice();
		room.snapshotSeq = upToSeq;
		// The history copy: params, code and live keep their update bytes (HIST1).
		if (!keepsHistory(name)) for (const e of room.log) if (e.seq <= upToSeq) e.update = null;
		return;
	}

	async history(
		name: RoomName,
		options: { limit?: number; beforeSeq?: number } = {}
	): Promise<HistoryEntry[]> {
		this.#open();
		const limit = historyLimit(options.limit);
		const before = options.beforeSeq ?? Infinity;
		const log = this.#rooms.get(name)?.log ?? [];
		const out: HistoryEntry[] = [];
		for (let i = log.length - 1; i >= 0 && out.length < limit; i--) {
			const e = log[i]!;
			if (e.seq < before) out.push({ seq: e.seq, author: e.author, at: e.at, bytes: e.bytes });
		}
		return out;
	}

	async listRooms(workspace: WorkspaceId): Promise<RoomName[]> {
		this.#open();
		return [...this.#rooms.keys()].filter((r) => workspaceOfRoom(r) === workspace).sort();
	}

	async dumpDocument(name: RoomName): Promise<DocumentDump> {
		this.#open();
		const room = this.#rooms.get(name);
		if (!room) return { snapshot: null, snapshotSeq: 0, updates: [], history: [] };
		const updates: StoredUpdate[] = [];
		for (const e of room.log) {
			if (e.seq > room.snapshotSeq)
				updates.push({ room: name, seq: e.seq, author: e.author, at: e.at, update: e.update! });
		}
		return {
			snapshot: room.snapshot,
			snapshotSeq: room.snapshotSeq,
			updates,
			history: room.log.map((e) => ({ seq: e.seq, author: e.author, at: e.at, bytes: e.bytes }))
		};
	}

	async restoreDocument(name: RoomName, dump: DocumentDump): Promise<void> {
		this.#open();
		if (this.#rooms.has(name)) throw new Error(`restore ${name}: the room already has content`);
		const updates = new Map(dump.updates.map((u) => [u.seq, u]));
		const log: Room['log'] = [];
		for (const h of dump.history) {
			const u = updates.get(h.seq);
			log.push({
				seq: h.seq,
				author: h.author,
				at: h.at,
				bytes: h.bytes,
				update: u ? u.update.slice() : null
			});
		}
		this.#rooms.set(name, {
			snapshot: dump.snapshot,
			snapshotSeq: dump.snapshotSeq,
			lastSeq: lastSeqOfDump(dump),
			log
		});
		return;
	}

	// Accounts

	async createUser(user: User): Promise<void> {
		this.#open();
		if (this.#users.has(user.id)) throw new Error(`user ${user.id} already exists`);
		const key = emailKey(user.email);
		for (const u of this.#users.values()) {
			if (emailKey(u.email) === key) throw new Error(`e-mail ${user.email} is already taken`);
		}
		this.#users.set(user.id, { ...user });
		return;
	}

	async getUserById(id: UserId): Promise<User | null> {
		this.#open();
		return this.#users.get(id) ?? null;
	}

	async getUserByEmail(email: string): Promise<User | null> {
		this.#open();
		const key = emailKey(email);
		for (const u of this.#users.values()) if (emailKey(u.email) === key) return u;
		return null;
	}

	async setPassword(id: UserId, passwordHash: string): Promise<void> {
		this.#open();
		const user = this.#users.get(id);
		if (user) this.#users.set(id, { ...user, passwordHash });
		return;
	}

	async listUsers(): Promise<User[]> {
		this.#open();
		return [...this.#users.values()].sort(byCreated);
	}

	async createSession(session: Session): Promise<void> {
		this.#open();
		if (!this.#users.has(session.userId)) throw new Error(`no user ${session.userId}`);
		this.#sessions.set(session.tokenHash, { ...session });
		return;
	}

	async getSession(tokenHash: string): Promise<Session | null> {
		this.#open();
		return this.#sessions.get(tokenHash) ?? null;
	}

	async deleteSession(tokenHash: string): Promise<void> {
		this.#open();
		this.#sessions.delete(tokenHash);
		return;
	}

	async deleteSessionsOf(userId: UserId): Promise<void> {
		this.#open();
		for (const [k, s] of this.#sessions) if (s.userId === userId) this.#sessions.delete(k);
		return;
	}

	// Workspaces

	#needWorkspace(id: WorkspaceId): void {
		if (!this.#workspaces.has(id)) throw new Error(`no workspace ${id}`);
	}

	async createWorkspace(workspace: Workspace, owner: UserId): Promise<void> {
		this.#open();
		if (this.#workspaces.has(workspace.id))
			throw new Error(`workspace ${workspace.id} already exists`);
		this.#workspaces.set(workspace.id, { ...workspace });
		this.#members.set(memberKey(workspace.id, owner), {
			workspace: workspace.id,
			userId: owner,
			role: 'owner',
			joinedAt: workspace.createdAt
		});
		return;
	}

	async getWorkspace(id: WorkspaceId): Promise<Workspace | null> {
		this.#open();
		return this.#workspaces.get(id) ?? null;
	}

	async renameWorkspace(id: WorkspaceId, name: string): Promise<void> {
		this.#open();
		const ws = this.#workspaces.get(id);
		if (ws) this.#workspaces.set(id, { ...ws, name });
		return;
	}

	async deleteWorkspace(id: WorkspaceId): Promise<void> {
		this.#open();
		// Appends already queued for this workspace land first, then go with it.
		await this.#committer.flush();
		this.#workspaces.delete(id);
		const drop = <V>(map: Map<string, V>, ws: (v: V) => WorkspaceId) => {
			for (const [k, v] of map) if (ws(v) === id) map.delete(k);
		};
		drop(this.#members, (m) => m.workspace);
		drop(this.#invites, (i) => i.workspace);
		drop(this.#apiKeys, (k) => k.workspace);
		drop(this.#datasets, (d) => d.dataset.workspace);
		drop(this.#runs, (r) => r.workspace);
		this.archive.dropWorkspace(id);
		drop(this.#sweeps, (r) => r.workspace);
		for (const room of this.#rooms.keys())
			if (workspaceOfRoom(room) === id) this.#rooms.delete(room);
	}

	async listWorkspaces(): Promise<Workspace[]> {
		this.#open();
		return [...this.#workspaces.values()].sort(byCreated);
	}

	async listWorkspacesOf(userId: UserId): Promise<Array<Workspace & { role: Role }>> {
		this.#open();
		const out: Array<Workspace & { role: Role }> = [];
		for (const m of this.#members.values()) {
			const ws = this.#workspaces.get(m.workspace);
			if (m.userId === userId && ws) out.push({ ...ws, role: m.role });
		}
		return out.sort(byCreated);
	}

	async getMember(workspace: WorkspaceId, userId: UserId): Promise<Member | null> {
		this.#open();
		return this.#members.get(memberKey(workspace, userId)) ?? null;
	}

	async listMembers(workspace: WorkspaceId): Promise<Member[]> {
		this.#open();
		return [...this.#members.values()]
			.filter((m) => m.workspace === workspace)
			.sort((a, b) => a.joinedAt - b.joinedAt || cmp(a.userId, b.userId));
	}

	async putMember(member: Member): Promise<void> {
		this.#open();
		this.#needWorkspace(member.workspace);
		const key = memberKey(member.workspace, member.userId);
		const old = this.#members.get(key);
		this.#members.set(key, old ? { ...old, role: member.role } : { ...member });
		return;
	}

	async removeMember(workspace: WorkspaceId, userId: UserId): Promise<void> {
		this.#open();
		this.#members.delete(memberKey(workspace, userId));
		return;
	}

	async createInvite(invite: Invite): Promise<void> {
		this.#open();
		this.#needWorkspace(invite.workspace);
		if (this.#invites.has(invite.tokenHash)) throw new Error('invite already exists');
		this.#invites.set(invite.tokenHash, { ...invite });
		return;
	}

	async getInvite(tokenHash: string): Promise<Invite | null> {
		this.#open();
		return this.#invites.get(tokenHash) ?? null;
	}

	async useInvite(tokenHash: string, at: number): Promise<boolean> {
		this.#open();
		const invite = this.#invites.get(tokenHash);
		if (!invite || invite.usedAt !== null) return false;
		this.#invites.set(tokenHash, { ...invite, usedAt: at });
		return true;
	}

	async createApiKey(key: ApiKey): Promise<void> {
		this.#open();
		this.#needWorkspace(key.workspace);
		if (this.#apiKeys.has(key.id)) throw new Error(`API key ${key.id} already exists`);
		for (const k of this.#apiKeys.values()) {
			if (k.keyHash === key.keyHash) throw new Error('API key hash already exists');
		}
		this.#apiKeys.set(key.id, { ...key });
		return;
	}

	async getApiKeyByHash(keyHash: string): Promise<ApiKey | null> {
		this.#open();
		for (const k of this.#apiKeys.values()) if (k.keyHash === keyHash) return k;
		return null;
	}

	async listApiKeys(workspace: WorkspaceId): Promise<ApiKey[]> {
		this.#open();
		return [...this.#apiKeys.values()].filter((k) => k.workspace === workspace).sort(byCreated);
	}

	async revokeApiKey(workspace: WorkspaceId, id: string, at: number): Promise<boolean> {
		this.#open();
		const key = this.#apiKeys.get(id);
		if (!key || key.workspace !== workspace || key.revokedAt !== null) return false;
		this.#apiKeys.set(id, { ...key, revokedAt: at });
		return true;
	}

	async putDataset(dataset: Dataset, content: Uint8Array): Promise<void> {
		this.#open();
		this.#needWorkspace(dataset.workspace);
		this.#datasets.set(datasetKey(dataset.workspace, dataset.id), {
			dataset: { ...dataset, bytes: content.byteLength },
			content: content.slice()
		});
		return;
	}

	async listDatasets(workspace: WorkspaceId): Promise<Dataset[]> {
		this.#open();
		return [...this.#datasets.values()]
			.map((d) => d.dataset)
			.filter((d) => d.workspace === workspace)
			.sort(byCreated);
	}

	async getDataset(
		workspace: WorkspaceId,
		id: string
	): Promise<{ dataset: Dataset; content: Uint8Array } | null> {
		this.#open();
		return this.#datasets.get(datasetKey(workspace, id)) ?? null;
	}

	async deleteDataset(workspace: WorkspaceId, id: string): Promise<boolean> {
		this.#open();
		return this.#datasets.delete(datasetKey(workspace, id));
	}

	// Runs

	async markRunActive(workspace: WorkspaceId, run: RunId, owner = ''): Promise<void> {
		this.#open();
		const key = datasetKey(workspace, run);
		if (!this.#runs.has(key))
			this.#runs.set(key, {
				workspace,
				run,
				owner,
				runner: 'builtin',
				agent: '',
				state: 'running',
				claimedBy: '',
				queuedAt: 0,
				heartbeatAt: 0,
				stopRequested: false,
				requeue: false
			});
		return;
	}

	async markRunEnded(workspace: WorkspaceId, run: RunId): Promise<void> {
		this.#open();
		this.#runs.delete(datasetKey(workspace, run));
		return;
	}

	async listActiveRuns(
		owner?: string
	): Promise<Array<{ workspace: WorkspaceId; run: RunId; owner: string }>> {
		this.#open();
		return [...this.#runs.values()]
			.filter((r) => owner === undefined || r.owner === owner)
			.map((r) => ({ workspace: r.workspace, run: r.run, owner: r.owner }));
	}

	async addActiveRun(entry: ActiveRun): Promise<void> {
		this.#open();
		const key = datasetKey(entry.workspace, entry.run);
		if (!this.#runs.has(key)) this.#runs.set(key, { ...entry });
	}

	async claimRun(q: ClaimQuery): Promise<ActiveRun | null> {
		this.#open();
		const all = this.#sortedRuns();
		const pick = pickClaim(
			all,
			all.filter((r) => r.state === 'running'),
			q
		);
		if (!pick) return null;
		const claimed: ActiveRun = {
			...pick,
			state: 'running',
			claimedBy: q.claimedBy,
			owner: q.owner,
			heartbeatAt: q.now
		};
		this.#runs.set(datasetKey(pick.workspace, pick.run), claimed);
		return { ...claimed };
	}

	async heartbeatRun(
		workspace: WorkspaceId,
		run: RunId,
		claimedBy: string,
		now: number
	): Promise<ActiveRun | null> {
		this.#open();
		const key = datasetKey(workspace, run);
		const row = this.#runs.get(key);
		if (row?.state !== 'running' || row.claimedBy !== claimedBy) return null;
		const next = { ...row, heartbeatAt: now };
		this.#runs.set(key, next);
		return { ...next };
	}

	async requestStop(workspace: WorkspaceId, run: RunId): Promise<ActiveRun | null> {
		this.#open();
		const key = datasetKey(workspace, run);
		const row = this.#runs.get(key);
		if (!row) return null;
		if (row.state === 'queued') {
			this.#runs.delete(key);
			return { ...row };
		}
		const next = { ...row, stopRequested: true };
		this.#runs.set(key, next);
		return { ...next };
	}

	async takeStaleRuns(before: number): Promise<ActiveRun[]> {
		this.#open();
		const stale = [...this.#runs.entries()].filter(
			([, r]) => r.state === 'running' && r.heartbeatAt < before
		);
		for (const [key] of stale) this.#runs.delete(key);
		return stale.map(([, r]) => ({ ...r }));
	}

	async listQueue(workspace?: WorkspaceId): Promise<ActiveRun[]> {
		this.#open();
		return this.#sortedRuns().filter((r) => workspace === undefined || r.workspace === workspace);
	}

	#sortedRuns(): ActiveRun[] {
		return [...this.#runs.values()]
			.map((r) => ({ ...r }))
			.sort((a, b) => a.queuedAt - b.queuedAt || a.run.localeCompare(b.run));
	}

	async addSweep(row: SweepRow): Promise<void> {
		this.#open();
		const key = datasetKey(row.workspace, row.id);
		if (this.#sweeps.has(key)) throw new Error(`sweep ${row.id} exists`);
		this.#sweeps.set(key, { ...row });
	}

	async listSweeps(workspace: WorkspaceId, id?: string): Promise<SweepRow[]> {
		this.#open();
		return [...this.#sweeps.values()]
			.filter((r) => r.workspace === workspace && (id === undefined || r.id === id))
			.map((r) => ({ ...r }))
			.sort((a, b) => a.createdAt - b.createdAt || cmp(a.id, b.id));
	}

	async stopSweep(workspace: WorkspaceId, id: string, at: number): Promise<boolean> {
		this.#open();
		const key = datasetKey(workspace, id);
		const row = this.#sweeps.get(key);
		if (row?.state !== 'running') return false;
		this.#sweeps.set(key, { ...row, state: 'stopped', endedAt: at });
		return true;
	}

	async healthy(): Promise<boolean> {
		return !this.#closed;
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		await this.#committer.close();
		this.#closed = true;
	}
}

function memberKey(workspace: WorkspaceId, userId: UserId): string {
	return `${workspace}\u0000${userId}`;
}
const datasetKey = memberKey as (workspace: WorkspaceId, id: string) => string;

function cmp(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

function byCreated(
	a: { createdAt: number; id: string },
	b: { createdAt: number; id: string }
): number {
	return a.createdAt - b.createdAt || cmp(a.id, b.id);
}
