// Hyperparameter conflicts (issue 13, CONFLICT1): my value of a key was replaced
// by someone who had not seen it. Causality comes from the Yjs document, not from
// a time window: a Y.Map value is an item whose `origin` is the item its writer saw
// as the value when writing. If the winning item's chain of origins reaches my
// replaced item, its writer had seen my value (a later change, never an alert);
// if not, the two writes were concurrent and Yjs picked theirs.

import * as Y from 'yjs';

export interface ReplacedValue {
	readonly key: string;
	/** The value of mine that was replaced. */
	readonly mine: unknown;
	/** The value that won. */
	readonly theirs: unknown;
	/** Yjs client id of the winning write (maps to a person through awareness). */
	readonly winner: number;
}

/** Whether `item`'s writer had seen the item `id` (it is on its chain of origins). */
function sawItem(doc: Y.Doc, item: Y.Item, id: Y.ID): boolean {
	let origin = item.origin;
	// Bounded: a key's chain is as long as the key's number of writes.
	for (let steps = 0; origin && steps < 100_000; steps++) {
		if (Y.compareIDs(origin, id)) return true;
		const prev = Y.getItem(doc.store, origin);
		if (!(prev instanceof Y.Item)) return false;
		origin = prev.origin;
	}
	return false;
}

/**
 * Items of `map` written by this client (`doc.clientID`) that existed before the
 * remote transaction `tr` and were deleted by it, by key.
 */
function replacedItems(map: Y.Map<unknown>, tr: Y.Transaction): Map<string, Y.Item> {
	const doc = map.doc!;
	const me = doc.clientID;
	const known = tr.beforeState.get(me) ?? 0;
	const out = new Map<string, Y.Item>();
	Y.iterateDeletedStructs(tr, tr.deleteSet, (struct) => {
		if (!(struct instanceof Y.Item) || struct.id.client !== me || struct.id.clock >= known) return;
		if (struct.parent !== map || struct.parentSub === null) return;
		out.set(struct.parentSub, struct);
	});
	return out;
}

/** The conflicts a remote transaction on `map` caused (empty for local or later changes). */
export function conflictsOf(map: Y.Map<unknown>, tr: Y.Transaction): ReplacedValue[] {
	if (tr.local || !map.doc) return [];
	const doc = map.doc;
	const found: ReplacedValue[] = [];
	for (const [key, mine] of replacedItems(map, tr)) {
		const winner = map._map.get(key);
		if (!winner || winner.deleted || winner.id.client === doc.clientID) continue;
		if (sawItem(doc, winner, mine.id)) continue;
		found.push({
			key,
			mine: mine.content.getContent()[0],
			theirs: winner.content.getContent()[0],
			winner: winner.id.client
		});
	}
	return found;
}

/** Calls `onConflict` for each of my values that a concurrent remote write replaced. */
export function watchConflicts(
	map: Y.Map<unknown>,
	onConflict: (c: ReplacedValue) => void
): () => void {
	const observer = (_event: Y.YMapEvent<unknown>, tr: Y.Transaction) => {
		for (const c of conflictsOf(map, tr)) onConflict(c);
	};
	map.observe(observer);
	return () => map.unobserve(observer);
}
