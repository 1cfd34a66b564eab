// A DocumentStore wrapper that records the order of events, can be slowed down
// and made to fail, for tests of store-before-relay (RELAY2) and failures (RELAY4).

import type { RoomName } from '../../server/protocol/docs.ts';
import type { WorkspaceId } from '../../server/protocol/ids.ts';
import type {
	DocumentStore,
	HistoryEntry,
	LoadedDoc,
	UpdateRecord
} from '../../server/storage/types.ts';

export class RecordingStore implements DocumentStore {
	readonly inner: DocumentStore;
	readonly events: string[] = [];
	delayMs = 0;
	loadDelayMs = 0;
	failing: Error | null = null;
	loadFailing: Error | null = null;
	/** While set, appends wait for it (a stalled database: no answer, no error). */
	#stall: Promise<void> | null = null;
	appended = 0;
	loads = 0;
	compactions = 0;

	constructor(inner: DocumentStore) {
		this.inner = inner;
	}

	async appendUpdates(records: readonly UpdateRecord[]): Promise<number[]> {
		if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
		if (this.#stall) await this.#stall;
		if (this.failing) {
			this.events.push('append-failed');
			throw this.failing;
		}
		const seqs = await this.inner.appendUpdates(records);
		this.appended += records.length;
		this.events.push(`stored:${records.length}`);
		return seqs;
	}

	/** Appends stop answering until the returned function is called. */
	stall(): () => void {
		let release = (): void => {};
		this.#stall = new Promise<void>((resolve) => (release = resolve));
		return () => {
			this.#stall = null;
			release();
		};
	}

	async loadDoc(room: RoomName): Promise<LoadedDoc> {
		this.loads++;
		if (this.loadFailing) throw this.loadFailing;
		if (this.loadDelayMs) await new Promise((r) => setTimeout(r, this.loadDelayMs));
		return this.inner.loadDoc(room);
	}

	async compact(room: RoomName, snapshot: Uint8Array, upToSeq: number): Promise<void> {
		this.compactions++;
		await this.inner.compact(room, snapshot, upToSeq);
	}

	history(
		room: RoomName,
		options?: { limit?: number; beforeSeq?: number }
	): Promise<HistoryEntry[]> {
		return this.inner.history(room, options);
	}

	listRooms(workspace: WorkspaceId): Promise<RoomName[]> {
		return this.inner.listRooms(workspace);
	}
}
