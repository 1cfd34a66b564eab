// The history copy for MemoryStorage (unit tests): the same behaviour as
// archive.ts's SQL, over maps. It reads the room logs of the store it belongs to.

import type { RoomName } from '../protocol/docs.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';
import { workspaceOfRoom } from './common.ts';
import type {
	ActivityQuery,
	ActivityRecord,
	ArchivedUpdate,
	ArchiveStore,
	Checkpoint,
	HistoryAdvance
} from './types.ts';

export interface MemoryLogEntry {
	readonly seq: number;
	readonly author: UserId | null;
	readonly at: number;
	readonly update: Uint8Array | null;
}

/* eslint-disable @typescript-eslint/require-await -- async so that every failure is a rejection, as in SQL */
export class MemoryArchive implements ArchiveStore {
	readonly #log: (room: RoomName) => readonly MemoryLogEntry[];
	readonly #activity = new Map<string, ActivityRecord>();
	readonly #cursors = new Map<RoomName, number>();
	readonly #checkpoints = new Map<RoomName, Checkpoint[]>();

	constructor(log: (room: RoomName) => readonly MemoryLogEntry[]) {
		this.#log = log;
	}

	async readUpdates(
		room: RoomName,
		afterSeq: number,
		toSeq: number,
		limit: number
	): Promise<ArchivedUpdate[]> {
		return this.#log(room)
			.filter((e) => e.seq > afterSeq && e.seq <= toSeq)
			.slice(0, limit)
			.map((e) => ({ seq: e.seq, author: e.author, at: e.at, update: e.update }));
	}

	async seqAt(room: RoomName, at: number): Promise<number> {
		let best: MemoryLogEntry | null = null;
		for (const e of this.#log(room)) {
			if (e.at <= at && (!best || e.at > best.at || (e.at === best.at && e.seq > best.seq)))
				best = e;
		}
		return best?.seq ?? 0;
	}

	async checkpointAtOrBefore(room: RoomName, seq: number): Promise<Checkpoint | null> {
		const list = (this.#checkpoints.get(room) ?? []).filter((c) => c.seq <= seq);
		return list.length ? list.reduce((a, b) => (a.seq > b.seq ? a : b)) : null;
	}

	async cursor(room: RoomName): Promise<number> {
		return this.#cursors.get(room) ?? 0;
	}

	async advance(step: HistoryAdvance): Promise<boolean> {
		if ((this.#cursors.get(step.room) ?? 0) !== step.fromSeq) return false;
		this.#cursors.set(step.room, step.toSeq);
		await this.addActivity(step.entries);
		const cp = step.checkpoint;
		if (cp) {
			const list = this.#checkpoints.get(cp.room) ?? [];
			if (!list.some((c) => c.seq === cp.seq)) list.push({ ...cp, state: cp.state.slice() });
			this.#checkpoints.set(cp.room, list);
		}
		return true;
	}

	async addActivity(entries: readonly ActivityRecord[]): Promise<void> {
		for (const e of entries) {
			const key = `${e.workspace}\u0000${e.id}`;
			const old = this.#activity.get(key);
			this.#activity.set(
				key,
				old
					? { ...old, at: e.at, summary: e.summary, data: structuredClone(e.data) }
					: structuredClone(e)
			);
		}
	}

	async listActivity(workspace: WorkspaceId, q: ActivityQuery): Promise<ActivityRecord[]> {
		return [...this.#activity.values()]
			.filter(
				(e) =>
					e.workspace === workspace &&
					(q.before === undefined || e.id < q.before) &&
					(q.user === undefined || e.user === q.user) &&
					(!q.kinds?.length || q.kinds.includes(e.kind)) &&
					(q.from === undefined || e.at >= q.from) &&
					(q.to === undefined || e.at <= q.to)
			)
			.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
			.slice(0, q.limit)
			.map((e) => structuredClone(e));
	}

	async mergeable(
		workspace: WorkspaceId,
		mergeKey: string,
		since: number
	): Promise<ActivityRecord | null> {
		let best: ActivityRecord | null = null;
		for (const e of this.#activity.values()) {
			if (e.workspace === workspace && e.mergeKey === mergeKey && e.at >= since)
				if (!best || e.at > best.at) best = e;
		}
		return best ? structuredClone(best) : null;
	}

	/** The workspace was deleted. */
	dropWorkspace(workspace: WorkspaceId): void {
		for (const [k, e] of this.#activity) if (e.workspace === workspace) this.#activity.delete(k);
		for (const room of this.#cursors.keys())
			if (workspaceOfRoom(room) === workspace) this.#cursors.delete(room);
		for (const room of this.#checkpoints.keys())
			if (workspaceOfRoom(room) === workspace) this.#checkpoints.delete(room);
	}
}
