// A minimal y-websocket client that opts in to `?ack=1` and reports the server's
// `saved` messages (type 100): the way to know what the server promised to keep.

import * as Y from 'yjs';
import WebSocket from 'ws';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import { withDeadline } from './wait.ts';

export interface AckClient {
	readonly ws: WebSocket;
	readonly synced: Promise<void>;
	/** Highest clock of this doc's own client the server said is stored. */
	readonly savedClock: () => number;
	/** Resolves when everything up to the doc's current clock is stored. */
	saved(ms?: number): Promise<void>;
	/** Calls `listener` on every saved acknowledgement (with the clock it covers). */
	onSaved(listener: (clock: number) => void): () => void;
	close(): void;
}

export function ackClient(url: string, doc: Y.Doc): AckClient {
	const ws = new WebSocket(url);
	ws.binaryType = 'nodebuffer';
	const savedListeners = new Set<(sv: Map<number, number>) => void>();
	let onSynced: () => void = () => {};
	const synced = new Promise<void>((resolve) => (onSynced = resolve));
	ws.on('open', () => {
		const e = encoding.createEncoder();
		encoding.writeVarUint(e, 0);
		syncProtocol.writeSyncStep1(e, doc);
		ws.send(encoding.toUint8Array(e));
	});
	ws.on('message', (data: Buffer) => {
		const d = decoding.createDecoder(new Uint8Array(data));
		const type = decoding.readVarUint(d);
		if (type === 0) {
			const e = encoding.createEncoder();
			encoding.writeVarUint(e, 0);
			const step = syncProtocol.readSyncMessage(d, e, doc, 'server');
			if (encoding.length(e) > 1) ws.send(encoding.toUint8Array(e));
			if (step === syncProtocol.messageYjsSyncStep2) onSynced();
		} else if (type === 100) {
			const sv = Y.decodeStateVector(decoding.readVarUint8Array(d));
			for (const listener of savedListeners) listener(sv);
		}
	});
	let savedClock = 0;
	savedListeners.add((sv) => (savedClock = Math.max(savedClock, sv.get(doc.clientID) ?? 0)));
	const onUpdate = (update: Uint8Array, origin: unknown) => {
		// Before the socket is open, the sync handshake carries these updates later.
		if (origin === 'server' || ws.readyState !== WebSocket.OPEN) return;
		const e = encoding.createEncoder();
		encoding.writeVarUint(e, 0);
		syncProtocol.writeUpdate(e, update);
		ws.send(encoding.toUint8Array(e));
	};
	doc.on('update', onUpdate);
	ws.on('error', () => {});
	return {
		ws,
		synced: withDeadline(synced, 'initial sync'),
		savedClock: () => savedClock,
		saved(ms?: number): Promise<void> {
			const clock = Y.getState(doc.store, doc.clientID);
			return withDeadline(
				new Promise<void>((resolve) => {
					if (savedClock >= clock) return resolve();
					const listener = (sv: Map<number, number>) => {
						if ((sv.get(doc.clientID) ?? 0) < clock) return;
						savedListeners.delete(listener);
						resolve();
					};
					savedListeners.add(listener);
				}),
				'the saved acknowledgement',
				ms
			);
		},
		onSaved(listener) {
			const wrapped = (sv: Map<number, number>) => listener(sv.get(doc.clientID) ?? 0);
			savedListeners.add(wrapped);
			return () => savedListeners.delete(wrapped);
		},
		close() {
			doc.off('update', onUpdate);
			ws.terminate();
		}
	};
}
