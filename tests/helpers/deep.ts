// Values nested past MAX_VALUE_DEPTH, written by hand: JSON.stringify and lib0's
// writeAny recurse and could not write most of them (LIMIT7, LIMIT9).

import * as encoding from 'lib0/encoding';
import { awarenessFrame } from '../../server/relay/frames.ts';

/** `[[[…depth…1]]]` as JSON text. */
export function deepArrayJson(depth: number): string {
	return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** `{"cursor": [[[…depth…]]]}` as JSON text (JSON.stringify could not write it). */
export function deepCursorJson(depth: number): string {
	return `{"cursor":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

/** An awareness update carrying `json` as the state of `clientID`, encoded by hand. */
export function rawAwarenessUpdate(clientID: number, clock: number, json: string): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, 1);
	encoding.writeVarUint(e, clientID);
	encoding.writeVarUint(e, clock);
	encoding.writeVarString(e, json);
	return encoding.toUint8Array(e);
}

/** The same as a message of the sync protocol. */
export function rawAwarenessFrame(clientID: number, clock: number, json: string): Uint8Array {
	return awarenessFrame(rawAwarenessUpdate(clientID, clock, json));
}

/** A v1 update setting `key` of root map `root` to an `any` array nested `depth` deep. */
export function deepAnyUpdate(root: string, key: string, depth: number, client = 77): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, 1); // one client
	encoding.writeVarUint(e, 1); // one struct
	encoding.writeVarUint(e, client);
	encoding.writeVarUint(e, 0); // clock
	encoding.writeUint8(e, 8 | 32); // ContentAny, with a parentSub (map key)
	encoding.writeVarUint(e, 1); // parent is a root type, by name
	encoding.writeVarString(e, root);
	encoding.writeVarString(e, key);
	encoding.writeVarUint(e, 1); // one value
	for (let i = 0; i < depth; i++) {
		encoding.writeUint8(e, 117); // array of one
		encoding.writeVarUint(e, 1);
	}
	encoding.writeUint8(e, 125); // integer 1
	encoding.writeVarInt(e, 1);
	encoding.writeVarUint(e, 0); // empty delete set
	return encoding.toUint8Array(e);
}
