// What every implementation offers beyond the shared Storage interface (group
// commit counters for tests and metrics, raw document import for transfer.ts),
// and small helpers they share.

import type { RoomName } from '../protocol/docs.ts';
import type { WorkspaceId } from '../protocol/ids.ts';
import type { CommitInfo } from './groupCommit.ts';
import type {
	ActiveRun,
	ClaimQuery,
	HistoryEntry,
	RunnerKind,
	Storage,
	StoredUpdate
} from './types.ts';

/** A whole document as it is stored: the compacted snapshot, the log after it, and all history. */
export interface DocumentDump {
	readonly snapshot: Uint8Array | null;
	/** Seq the snapshot covers (0 without one). */
	readonly snapshotSeq: number;
	/** Updates after the snapshot, in order. */
	readonly updates: readonly StoredUpdate[];
	/** Every history entry, compacted or not, oldest first. */
	readonly history: readonly HistoryEntry[];
}

export interface EnsembleStorage extends Storage {
	/** Group-commit transactions committed so far. */
	readonly commitCount: number;
	/** Group-commit transactions that failed (their callers were rejected). */
	readonly failedCommits: number;
	/** Makes the next group commit fail after writing its rows (contract tests only). */
	failNextCommit(error: Error): void;
	/** Writes a document read by dumpDocument into an empty room, seqs and history kept. */
	restoreDocument(room: RoomName, dump: DocumentDump): Promise<void>;
	dumpDocument(room: RoomName): Promise<DocumentDump>;
}

export interface StorageOptions {
	/** Called after every group commit (for metrics: store latency, batch sizes). */
	readonly onCommit?: (info: CommitInfo) => void;
}

export function workspaceOfRoom(room: RoomName): WorkspaceId {
	return room.slice(0, room.indexOf('/')) as WorkspaceId;
}

/**
 * Rooms whose update bytes survive compaction, so that any past moment can be
 * rebuilt (HIST1): params, code and live. A run's metric series is not history.
 */
export function keepsHistory(room: RoomName): boolean {
	const doc = room.slice(room.indexOf('/') + 1);
	return doc === 'params' || doc === 'code' || doc === 'live';
}

/** The key e-mail addresses are unique and looked up by. */
export function emailKey(email: string): string {
	return email.trim().toLowerCase();
}

export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 10_000;

export function historyLimit(limit: number | undefined): number {
	if (limit === undefined) return DEFAULT_HISTORY_LIMIT;
	if (!Number.isInteger(limit) || limit < 1)
		throw new RangeError(`history limit must be ≥ 1, got ${limit}`);
	return Math.min(limit, MAX_HISTORY_LIMIT);
}

export function checkCompaction(room: RoomName, upToSeq: number, lastSeq: number): void {
	if (!Number.isInteger(upToSeq) || upToSeq < 1 || upToSeq > lastSeq) {
		throw new RangeError(`compact ${room}: upToSeq ${upToSeq} is outside 1..${lastSeq}`);
	}
}

export function lastSeqOfDump(dump: DocumentDump): number {
	let last = dump.snapshotSeq;
	for (const u of dump.updates) last = Math.max(last, u.seq);
	for (const h of dump.history) last = Math.max(last, h.seq);
	return last;
}

/** A plain Uint8Array view (pg returns Buffers, which compare unequal in tests and JSON). */
export function bytes(value: Uint8Array): Uint8Array {
	return value.constructor === Uint8Array
		? value
		: new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** A running run as claims see it: its workspace, runner and claimant. */
export interface RunningKey {
	readonly workspace: WorkspaceId;
	readonly runner: RunnerKind;
	readonly claimedBy: string;
}

/**
 * The run a claim takes: the oldest queued one of the asked runners (and agent),
 * skipping workspaces already running one when `onePerWorkspace`. Every store
 * calls it inside its own atomic step, so each run is handed out once.
 */
export function pickClaim(
	queued: readonly ActiveRun[],
	running: readonly RunningKey[],
	q: ClaimQuery
): ActiveRun | null {
	// A run for "any" runner that an agent holds does not keep the server busy.
	const local = q.claimedBy.startsWith('server:');
	const busy = new Set(
		running
			.filter(
				(r) =>
					q.runners.includes(r.runner) &&
					(r.runner !== 'any' || r.claimedBy.startsWith('server:') === local)
			)
			.map((r) => r.workspace as string)
	);
	return (
		queued.find(
			(r) =>
				r.state === 'queued' &&
				q.runners.includes(r.runner) &&
				(q.workspace === undefined || r.workspace === q.workspace) &&
				(r.agent === '' || r.agent === q.agent) &&
				!(q.onePerWorkspace && busy.has(r.workspace))
		) ?? null
	);
}
