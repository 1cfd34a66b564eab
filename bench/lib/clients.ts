// One client API over the three servers: y-websocket's provider for Ensemble and
// the stock server (Ensemble speaks the same protocol, plus the `saved`
// extension), Hocuspocus's own provider for Hocuspocus. Used in load processes.

import * as Y from 'yjs';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { HocuspocusProvider } from '@hocuspocus/provider';
import type { Awareness } from 'y-protocols/awareness';
import * as decoding from 'lib0/decoding';
import type { ServerKind } from '../servers/types.ts';

/** Where a client connects: prepared by the orchestrator (rooms.ts). */
export interface RoomRef {
	readonly kind: ServerKind;
	readonly port: number;
	/** Ensemble: `{workspace}/{doc}`; peers: any name. */
	readonly room: string;
	/** Ensemble's WebSocket token for that workspace. */
	readonly token?: string;
}

export interface Client {
	readonly doc: Y.Doc;
	readonly awareness: Awareness;
	/** Resolves on the first full sync with the server. */
	readonly synced: Promise<void>;
	/** Ensemble only: called with the state vector of every `saved` acknowledgement. */
	onSaved: ((stateVector: Map<number, number>) => void) | null;
	destroy(): void;
}

export interface ConnectOptions {
	/** Ask Ensemble for saved acknowledgements (`?ack=1`). */
	readonly ack?: boolean;
	readonly doc?: Y.Doc;
}

/** Ensemble's `saved` extension (server/protocol/messages.ts). */
const MESSAGE_SAVED = 100;

export function connect(ref: RoomRef, options: ConnectOptions = {}): Client {
	const doc = options.doc ?? new Y.Doc();
	return ref.kind === 'hocuspocus' ? hocuspocus(ref, doc) : yWebsocket(ref, doc, options);
}

function yWebsocket(ref: RoomRef, doc: Y.Doc, options: ConnectOptions): Client {
	const ensemble = ref.kind === 'ensemble';
	const params: Record<string, string> = {};
	if (ensemble) {
		if (!ref.token) throw new Error(`Ensemble room ${ref.room} has no token`);
		params.token = ref.token;
		if (options.ack) params.ack = '1';
	}
	const provider = new WebsocketProvider(
		ensemble ? `ws://127.0.0.1:${ref.port}/ws` : `ws://127.0.0.1:${ref.port}`,
		ref.room,
		doc,
		{
			params,
			disableBc: true,
			// ws's WebSocket is what the tests use too; the provider's type wants the DOM one.
			WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
			maxBackoffTime: 1000
		}
	);
	const client: Client = {
		doc,
		awareness: provider.awareness,
		synced: new Promise<void>((resolve) => {
			if (provider.synced) resolve();
			else provider.once('sync', (synced: boolean) => synced && resolve());
		}),
		onSaved: null,
		destroy: () => {
			provider.destroy();
		}
	};
	provider.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => {
		const sv = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
		client.onSaved?.(sv);
	};
	return client;
}

function hocuspocus(ref: RoomRef, doc: Y.Doc): Client {
	const provider = new HocuspocusProvider({
		url: `ws://127.0.0.1:${ref.port}`,
		name: ref.room,
		document: doc,
		token: ref.token ?? null
	});
	const awareness = provider.awareness;
	if (!awareness) throw new Error('Hocuspocus provider without awareness');
	return {
		doc,
		awareness,
		synced: new Promise<void>((resolve) => {
			if (provider.isSynced) resolve();
			else provider.on('synced', () => resolve());
		}),
		onSaved: null,
		destroy: () => {
			provider.destroy();
		}
	};
}

/** Closes every client and waits a tick so their sockets start closing. */
export async function destroyAll(clients: readonly Client[]): Promise<void> {
	for (const client of clients) client.destroy();
	await new Promise((resolve) => setTimeout(resolve, 50));
}
