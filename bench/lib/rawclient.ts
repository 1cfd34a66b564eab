// Bare protocol clients that never decode the document: loaders that re-sync a
// large document in a loop, and idle connections for memory per connection.
// They keep the load generator's own CPU out of what is measured.

import WebSocket from 'ws';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import type { RoomRef } from './clients.ts';

const SYNC = 0;
const AUTH = 2;
const SYNC_REPLY = 4;
const STEP1 = 0;
const STEP2 = 1;

export function wsUrl(ref: RoomRef): string {
	switch (ref.kind) {
		case 'ensemble':
			return `ws://127.0.0.1:${ref.port}/ws/${ref.room}?token=${encodeURIComponent(ref.token ?? '')}`;
		case 'ywebsocket':
			return `ws://127.0.0.1:${ref.port}/${ref.room}`;
		case 'hocuspocus':
			return `ws://127.0.0.1:${ref.port}`;
	}
}

/** The first messages a client sends: Hocuspocus wants a token message first. */
function hello(ref: RoomRef, stateVector: Uint8Array): Uint8Array[] {
	const step1 = encoding.createEncoder();
	if (ref.kind === 'hocuspocus') {
		const auth = encoding.createEncoder();
		encoding.writeVarString(auth, ref.room);
		encoding.writeVarUint(auth, AUTH);
		encoding.writeVarUint(auth, 0); // token
		encoding.writeVarString(auth, ref.token ?? '');
		encoding.writeVarString(auth, 'bench');
		encoding.writeVarString(step1, ref.room);
		encoding.writeVarUint(step1, SYNC);
		encoding.writeVarUint(step1, STEP1);
		encoding.writeVarUint8Array(step1, stateVector);
		return [encoding.toUint8Array(auth), encoding.toUint8Array(step1)];
	}
	encoding.writeVarUint(step1, SYNC);
	encoding.writeVarUint(step1, STEP1);
	encoding.writeVarUint8Array(step1, stateVector);
	return [encoding.toUint8Array(step1)];
}

/** Whether `data` is the server's sync step 2 (the document) for this client. */
function isStep2(ref: RoomRef, data: Uint8Array): boolean {
	const d = decoding.createDecoder(data);
	if (ref.kind === 'hocuspocus') decoding.readVarString(d);
	const type = decoding.readVarUint(d);
	if (type !== SYNC && type !== SYNC_REPLY) return false;
	return decoding.readVarUint(d) === STEP2;
}

export interface RawConnection {
	/** Resolves with the byte size of the server's sync step 2. */
	readonly synced: Promise<number>;
	close(): void;
}

const EMPTY_STATE_VECTOR = new Uint8Array([0]);

/** Connects, asks for the whole document, and stays open until closed. */
export function rawConnect(ref: RoomRef, timeoutMs = 60_000): RawConnection {
	const ws = new WebSocket(wsUrl(ref), { perMessageDeflate: false });
	ws.binaryType = 'nodebuffer';
	const synced = new Promise<number>((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`no sync from ${ref.room} in ${timeoutMs} ms`)),
			timeoutMs
		);
		ws.on('open', () => {
			for (const message of hello(ref, EMPTY_STATE_VECTOR)) ws.send(message);
		});
		ws.on('message', (data: Buffer) => {
			if (isStep2(ref, data)) {
				clearTimeout(timer);
				resolve(data.byteLength);
			}
		});
		ws.on('error', (err) => {
			clearTimeout(timer);
			reject(err);
		});
		ws.on('close', (code) => {
			clearTimeout(timer);
			reject(new Error(`closed ${code} before sync`));
		});
	});
	// A rejection after a deliberate close is not an error of the run.
	synced.catch(() => undefined);
	return { synced, close: () => ws.terminate() };
}
