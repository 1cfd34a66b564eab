// Incoming awareness updates: parsed with bounds, filtered to the client IDs the
// connection owns, and stamped with the identity the connection authenticated,
// so nobody can appear as someone else (PRES1, PRES2).

import * as encoding from 'lib0/encoding';
import { equalityDeep } from 'lib0/function';
import type { Awareness } from 'y-protocols/awareness';
import { CloseCode } from '../protocol/closeCodes.ts';
import { checkValue } from '../protocol/values.ts';
import type { StampedUser } from './api.ts';
import { MalformedInput, Reader } from './reader.ts';

export interface AwarenessEntry {
	readonly clientID: number;
	readonly clock: number;
	/** null: the client left (its state is removed). */
	readonly state: Record<string, unknown> | null;
}

/**
 * Parses a y-protocols awareness update; throws MalformedInput (states nested
 * deeper than MAX_VALUE_DEPTH: 4422). Entries for
 * which `skip(clientID, clock)` is true are bounds-checked but neither decoded nor
 * parsed, and left out: stock y-websocket clients send every awareness update
 * they receive back to the server (other clients' states included), so at N
 * readers each presence frame comes back N times, and only the sender's own
 * client IDs can be taken from it (PRES2).
 */
export function parseAwarenessUpdate(
	update: Uint8Array,
	skip?: (clientID: number, clock: number) => boolean
): AwarenessEntry[] {
	const r = new Reader(update);
	const n = r.count(3);
	const out: AwarenessEntry[] = [];
	for (let i = 0; i < n; i++) {
		const clientID = r.varUint();
		const clock = r.varUint();
		if (skip?.(clientID, clock)) {
			r.skip(r.varUint());
			continue;
		}
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
		// Refused when it arrives: re-encoding it for the others (JSON.stringify, in
		// a timer) would throw where no client can be blamed (LIMIT7).
		const problem = checkValue(state);
		if (problem)
			throw new MalformedInput(`awareness state: ${problem.message}`, CloseCode.valueTooDeep);
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

/**
 * y-protocols' `applyAwarenessUpdate` for entries already parsed (and stamped):
 * the same clock rules, state and meta updates and 'change'/'update' events,
 * without encoding the entries to JSON only for the Awareness to parse them
 * again. This runs for every awareness message of every client.
 */
export function applyAwarenessEntries(
	awareness: Awareness,
	entries: readonly AwarenessEntry[],
	origin: unknown
): void {
	// lastUpdated is on the Awareness's own wall clock (it times states out with it).
	const timestamp = Date.now();
	const added: number[] = [];
	const updated: number[] = [];
	const filteredUpdated: number[] = [];
	const removed: number[] = [];
	for (const entry of entries) {
		const { clientID, state } = entry;
		let { clock } = entry;
		const clientMeta = awareness.meta.get(clientID);
		const prevState = awareness.states.get(clientID);
		const currClock = clientMeta === undefined ? 0 : clientMeta.clock;
		if (!(
			currClock < clock ||
			(currClock === clock && state === null && awareness.states.has(clientID))
		)) {
			continue;
		}
		if (state === null) {
			// As in y-protocols: a remote removal never removes the local state.
			if (clientID === awareness.clientID && awareness.getLocalState() != null) clock++;
			else awareness.states.delete(clientID);
		} else {
			awareness.states.set(clientID, state);
		}
		awareness.meta.set(clientID, { clock, lastUpdated: timestamp });
		if (clientMeta === undefined && state !== null) {
			added.push(clientID);
		} else if (clientMeta !== undefined && state === null) {
			removed.push(clientID);
		} else if (state !== null) {
			if (!equalityDeep(state, prevState)) filteredUpdated.push(clientID);
			updated.push(clientID);
		}
	}
	if (added.length > 0 || filteredUpdated.length > 0 || removed.length > 0) {
		awareness.emit('change', [{ added, updated: filteredUpdated, removed }, origin]);
	}
	if (added.length > 0 || updated.length > 0 || removed.length > 0) {
		awareness.emit('update', [{ added, updated, removed }, origin]);
	}
}
