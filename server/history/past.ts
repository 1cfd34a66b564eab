// A document as it was at a seq (HIST2): the nearest checkpoint at or before it
// (a full state with gc off) and the kept updates after it, merged and applied.

import * as Y from 'yjs';
import type { RoomName } from '../protocol/docs.ts';
import type { ArchiveStore } from '../storage/types.ts';

/** Read per query; the checkpoints keep the number of pages small. */
const PAGE = 5000;

export class HistoryGoneError extends Error {}

export async function docAt(
	archive: ArchiveStore,
	room: RoomName,
	seq: number
): Promise<{ doc: Y.Doc; checkpointSeq: number }> {
	const doc = new Y.Doc({ gc: false });
	const checkpoint = seq > 0 ? await archive.checkpointAtOrBefore(room, seq) : null;
	if (checkpoint) Y.applyUpdate(doc, checkpoint.state);
	let after = checkpoint?.seq ?? 0;
	while (after < seq) {
		const page = await archive.readUpdates(room, after, seq, PAGE);
		if (page.length === 0) break;
		const updates: Uint8Array[] = [];
		for (const u of page) {
			if (!u.update) {
				doc.destroy();
				throw new HistoryGoneError(
					`The changes before ${new Date(u.at).toISOString()} were compacted before history was kept.`
				);
			}
			updates.push(u.update);
		}
		Y.applyUpdate(doc, updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates));
		after = page[page.length - 1]!.seq;
	}
	return { doc, checkpointSeq: checkpoint?.seq ?? 0 };
}
