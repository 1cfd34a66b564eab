// Outgoing y-websocket frames (and Ensemble's `saved` extension), each encoded
// once and sent as-is to every recipient.

import * as encoding from 'lib0/encoding';
import { MessageType, StorageState } from '../protocol/messages.ts';

const SYNC_STEP1 = 0;
const SYNC_STEP2 = 1;
const SYNC_UPDATE = 2;
const PERMISSION_DENIED = 0;

function frame(write: (e: encoding.Encoder) => void): Uint8Array {
	const e = encoding.createEncoder();
	write(e);
	return encoding.toUint8Array(e);
}

export function syncStep1Frame(stateVector: Uint8Array): Uint8Array {
	return frame((e) => {
		encoding.writeVarUint(e, MessageType.sync);
		encoding.writeVarUint(e, SYNC_STEP1);
		encoding.writeVarUint8Array(e, stateVector);
	});
}

export function syncStep2Frame(update: Uint8Array): Uint8Array {
	return frame((e) => {
		encoding.writeVarUint(e, MessageType.sync);
		encoding.writeVarUint(e, SYNC_STEP2);
		encoding.writeVarUint8Array(e, update);
	});
}

export function updateFrame(update: Uint8Array): Uint8Array {
	return frame((e) => {
		encoding.writeVarUint(e, MessageType.sync);
		encoding.writeVarUint(e, SYNC_UPDATE);
		encoding.writeVarUint8Array(e, update);
	});
}

export function awarenessFrame(update: Uint8Array): Uint8Array {
	return frame((e) => {
		encoding.writeVarUint(e, MessageType.awareness);
		encoding.writeVarUint8Array(e, update);
	});
}

export function permissionDeniedFrame(reason: string): Uint8Array {
	return frame((e) => {
		encoding.writeVarUint(e, MessageType.auth);
		encoding.writeVarUint(e, PERMISSION_DENIED);
		encoding.writeVarString(e, reason);
	});
}

export function savedFrame(stateVector: Uint8Array): Uint8Array {
	return frame((e) => {
		encoding.writeVarUint(e, MessageType.saved);
		encoding.writeVarUint8Array(e, stateVector);
	});
}

export const SyncStep = { step1: SYNC_STEP1, step2: SYNC_STEP2, update: SYNC_UPDATE } as const;

/** Whether the document's changes are being stored (the `storage` extension). */
export function storageFrame(storing: boolean): Uint8Array {
	return frame((e) => {
		encoding.writeVarUint(e, MessageType.storage);
		encoding.writeVarUint(e, storing ? StorageState.storing : StorageState.notStoring);
	});
}
