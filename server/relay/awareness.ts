// Incoming awareness updates: parsed with bounds, filtered to the client IDs the
// connection owns, and stamped with the identity the connection authenticated,
// so nobody can appear as someone else (PRES1, PRES2).

import * as encoding from 'lib0/encoding';
import type { StampedUser } from './api.ts';
import { MalformedInput, Reader } from './reader.ts';

export interface AwarenessEntry {
	readonly clientID: number;
	readonly clock: number;
	/** null: the client left (its state is removed). */
	readonly state: Record<string, unknown> | null;
}

/** Parses a y-protocols awareness update; throws MalformedInput. */
export function parseAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
	const r = new Reader(update);
	const n = r.count(3);
	const out: AwarenessEntry[] = [];
	for (let i = 0; i < n; i++) {
		const clientID = r.varUint();
		const clock = r.varUint();
		const json = r.varString();
		let state: unknown;
		try {
			state = JSON.parse(json);
		} catch {
			throw new MalformedInput('invalid awareness JSON');
		}
		if (state !== null && (typeof state !== 'object' || Array.isArray(state))) {
			throw new MalformedInput('awareness state is not an object');
		}
		out.push({ clientID, clock, state: state as Record<string, unknown> | null });
	}
	r.end();
	return out;
}

/** Overwrites any claimed `user` field with the authenticated one. */
export function stamp(entry: AwarenessEntry, user: StampedUser): AwarenessEntry {
	if (entry.state === null) return entry;
	return { ...entry, state: { ...entry.state, user } };
}

export function encodeAwarenessEntries(entries: readonly AwarenessEntry[]): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, entries.length);
	for (const entry of entries) {
		encoding.writeVarUint(e, entry.clientID);
		encoding.writeVarUint(e, entry.clock);
		encoding.writeVarString(e, JSON.stringify(entry.state));
	}
	return encoding.toUint8Array(e);
}
