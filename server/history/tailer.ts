// Summarises what was stored into the activity feed (HIST3): after updates of a
// workspace's params, code or live are stored, it reads them back from storage
// (never from the relay's memory, so every process sees the same), groups
// consecutive updates of one author, describes what they changed and stores the
// entries with the room's new cursor in one transaction. A cursor that moved
// meanwhile means another process summarised those updates: its entries stand.
// It also writes a checkpoint every CHECKPOINT_EVERY updates (HIST2).

import * as Y from 'yjs';
import { parseRoomName, type DocName, type RoomName } from '../protocol/docs.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { ActivityRecord, Storage } from '../storage/types.ts';
import { capture, describe, mergeData, type Draft } from './describe.ts';
import { docAt } from './past.ts';
import { summarize } from './words.ts';

export const CHECKPOINT_EVERY = 1000;
/**
 * A room's stored updates are summarised this long after the first of them: a
 * second, not less, because each summary costs a transaction and announcing it
 * (HIST5) a stored write of `live`, per room (issue 18, many rooms).
 */
const DEBOUNCE_MS = 1000;
/** One person's edits to one thing merge over about a minute. */
export const MERGE_WITHIN_MS = 60_000;
const PAGE = 1000;
const SUMMARISED: readonly DocName[] = ['params', 'code', 'live'];

export function newActivityId(at: number): string {
	const rand = crypto.getRandomValues(new Uint8Array(5));
	return `${Math.max(0, at).toString(36).padStart(10, '0')}${Buffer.from(rand).toString('hex')}`;
}

interface Cached {
	doc: Y.Doc;
	seq: number;
	checkpointSeq: number;
}

export interface TailerOptions {
	readonly storage: Storage;
	readonly clock: Clock;
	readonly logger: Logger;
	/** Entries were stored (by this process): the app is told through live (HIST5). */
	readonly onEntries?: (workspace: WorkspaceId, entries: readonly ActivityRecord[]) => void;
	readonly debounceMs?: number;
}

export class HistoryTailer {
	readonly #o: TailerOptions;
	readonly #cache = new Map<RoomName, Cached>();
	readonly #running = new Map<RoomName, Promise<void>>();
	readonly #again = new Set<RoomName>();
	readonly #timers = new Map<RoomName, NodeJS.Timeout>();
	readonly #names = new Map<UserId, string>();
	#closed = false;

	constructor(options: TailerOptions) {
		this.#o = options;
	}

	/** Updates of `room` were stored: summarise them soon. */
	notify(room: RoomName): void {
		const key = parseRoomName(room);
		if (!key || !SUMMARISED.includes(key.doc) || this.#closed || this.#timers.has(room)) return;
		const timer = setTimeout(() => {
			this.#timers.delete(room);
			this.summarise(room).catch((err: unknown) =>
				this.#o.logger.warn({ err: String(err), room }, 'summarising history failed')
			);
		}, this.#o.debounceMs ?? DEBOUNCE_MS);
		timer.unref?.();
		this.#timers.set(room, timer);
	}

	/** Everything stored in the workspace so far is in the feed when this resolves. */
	async catchUp(workspace: WorkspaceId): Promise<void> {
		await Promise.all(SUMMARISED.map((doc) => this.summarise(`${workspace}/${doc}`)));
	}

	/** Runs one summary of `room` at a time; a call during one runs again after it. */
	summarise(room: RoomName): Promise<void> {
		const running = this.#running.get(room);
		if (running) {
			this.#again.add(room);
			return running.then(() => this.summarise(room));
		}
		const work = this.#summarise(room).finally(() => {
			this.#running.delete(room);
		});
		this.#running.set(room, work);
		return work;
	}

	async close(): Promise<void> {
		this.#closed = true;
		for (const t of this.#timers.values()) clearTimeout(t);
		this.#timers.clear();
		await Promise.allSettled([...this.#running.values()]);
		for (const c of this.#cache.values()) c.doc.destroy();
		this.#cache.clear();
	}

	async #name(user: UserId | null): Promise<string | null> {
		if (user === null) return null;
		let name = this.#names.get(user);
		if (name === undefined) {
			name = (await this.#o.storage.getUserById(user))?.name ?? 'Someone';
			this.#names.set(user, name);
		}
		return name;
	}

	async #state(room: RoomName, cursor: number): Promise<Cached> {
		const cached = this.#cache.get(room);
		if (cached && cached.seq === cursor) return cached;
		cached?.doc.destroy();
		const { doc, checkpointSeq } = await docAt(this.#o.storage.archive, room, cursor);
		const fresh = { doc, seq: cursor, checkpointSeq };
		this.#cache.set(room, fresh);
		return fresh;
	}

	async #summarise(room: RoomName): Promise<void> {
		this.#again.delete(room);
		const key = parseRoomName(room);
		if (!key) return;
		const archive = this.#o.storage.archive;
		const stored: ActivityRecord[] = [];
		for (;;) {
			const cursor = await archive.cursor(room);
			const updates = await archive.readUpdates(room, cursor, Number.MAX_SAFE_INTEGER, PAGE);
			if (updates.length === 0) break;
			const state = await this.#state(room, cursor);
			const drafts: Draft[] = [];
			for (let i = 0; i < updates.length;) {
				let j = i;
				// The update that creates the document stands alone: merged with the same
				// person's next edits, those edits would read as the first values (no one's change).
				const creates = state.doc.store.clients.size === 0;
				while (!creates && j + 1 < updates.length && updates[j + 1]!.author === updates[i]!.author)
					j++;
				const before = capture(state.doc, key.doc);
				for (let k = i; k <= j; k++) {
					const u = updates[k]!.update;
					if (u) Y.applyUpdate(state.doc, u);
				}
				const after = capture(state.doc, key.doc);
				if (before && after)
					drafts.push(
						...describe(before, after, updates[i]!.author, updates[j]!.at, {
							from: updates[i]!.seq,
							to: updates[j]!.seq
						})
					);
				i = j + 1;
			}
			const toSeq = updates[updates.length - 1]!.seq;
			state.seq = toSeq;
			const entries = await this.#entries(key.workspace, drafts);
			const checkpoint =
				toSeq - state.checkpointSeq >= CHECKPOINT_EVERY
					? {
							room,
							seq: toSeq,
							at: updates[updates.length - 1]!.at,
							state: Y.encodeStateAsUpdate(state.doc)
						}
					: null;
			const moved = await archive.advance({ room, fromSeq: cursor, toSeq, entries, checkpoint });
			if (!moved) {
				// Another process got there first; start again from the stored cursor.
				this.#cache.get(room)?.doc.destroy();
				this.#cache.delete(room);
				continue;
			}
			if (checkpoint) state.checkpointSeq = toSeq;
			stored.push(...entries);
		}
		if (stored.length > 0) this.#o.onEntries?.(key.workspace, stored);
	}

	/** Drafts → entries, merged into a recent entry of the same person and thing. */
	async #entries(workspace: WorkspaceId, drafts: readonly Draft[]): Promise<ActivityRecord[]> {
		const out = new Map<string, ActivityRecord>();
		const recent = new Map<string, ActivityRecord>();
		for (const d of drafts) {
			let earlier: ActivityRecord | null = null;
			if (d.mergeKey) {
				earlier = recent.get(d.mergeKey) ?? null;
				if (earlier && d.at - earlier.at > MERGE_WITHIN_MS) earlier = null;
				earlier ??= await this.#o.storage.archive.mergeable(
					workspace,
					d.mergeKey,
					d.at - MERGE_WITHIN_MS
				);
			}
			const data = earlier ? mergeData(d.kind, earlier.data, d.data) : d.data;
			const entry: ActivityRecord = {
				workspace,
				id: earlier?.id ?? newActivityId(d.at),
				at: Math.max(d.at, earlier?.at ?? 0),
				user: d.user,
				kind: d.kind,
				summary: summarize(d.kind, data, await this.#name(d.user)),
				data,
				mergeKey: d.mergeKey
			};
			out.set(entry.id, entry);
			if (d.mergeKey) recent.set(d.mergeKey, entry);
		}
		return [...out.values()];
	}
}
