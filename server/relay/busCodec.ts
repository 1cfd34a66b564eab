// Messages between relay processes. Document channels carry stored updates and
// stamped awareness, numbered per publisher and room load so that a receiver
// notices a lost message and re-syncs from storage (BUS2). The control channel
// carries role changes and workspace deletions.

import * as encoding from 'lib0/encoding';
import { Reader } from './reader.ts';

export const BusKind = {
	update: 0,
	awareness: 1,
	role: 2,
	closeWorkspace: 3,
	heartbeat: 4
} as const;
export type BusKind = (typeof BusKind)[keyof typeof BusKind];

export interface BusMessage {
	readonly kind: BusKind;
	/** Who published: a relay instance and room load (`{relayId}/{generation}`). */
	readonly origin: string;
	/**
	 * 1, 2, 3 … per origin on document channels; 0 on the control channel. A
	 * heartbeat repeats the publisher's last seq, so that the loss of its last
	 * message is noticed too.
	 */
	readonly seq: number;
	readonly payload: Uint8Array;
}

export function encodeBusMessage(m: BusMessage): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeUint8(e, m.kind);
	encoding.writeVarString(e, m.origin);
	encoding.writeVarUint(e, m.seq);
	encoding.writeVarUint8Array(e, m.payload);
	return encoding.toUint8Array(e);
}

/** Throws MalformedInput on a message that is not one of ours. */
export function decodeBusMessage(bytes: Uint8Array): BusMessage {
	const r = new Reader(bytes);
	const kind = r.uint8();
	if (kind > 4) throw new Error(`unknown bus message kind ${kind}`);
	const origin = r.varString();
	const seq = r.varUint();
	const payload = r.varBytes();
	r.end();
	return { kind: kind as BusKind, origin, seq, payload };
}

export const CONTROL_CHANNEL = 'control';

export function docChannel(room: string): string {
	return `doc:${room}`;
}
