// Stock y-websocket clients against the real server, and raw sockets for
// checking how the upgrade answers.

import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';
import { withDeadline, DEFAULT_DEADLINE_MS } from './wait.ts';
import type { ApiClient } from './http.ts';

export interface Peer {
	readonly doc: Y.Doc;
	readonly provider: WebsocketProvider;
	/** Close codes the provider's sockets were closed with, in order. */
	readonly closes: number[];
	destroy(): void;
}

/**
 * A stock WebsocketProvider on `/ws/{workspace}/{doc}` authenticated with a token
 * from `client`. BroadcastChannel is off so only the server can sync peers.
 */
export async function connectPeer(
	server: { readonly wsUrl: string },
	client: ApiClient,
	workspace: string,
	doc: string,
	options: { ack?: boolean; connect?: boolean; token?: string } = {}
): Promise<Peer> {
	const token = options.token ?? (await client.wsToken(workspace));
	const ydoc = new Y.Doc();
	const params: Record<string, string> = { token };
	if (options.ack) params.ack = '1';
	const provider = new WebsocketProvider(`${server.wsUrl}/ws`, `${workspace}/${doc}`, ydoc, {
		WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
		disableBc: true,
		params,
		connect: options.connect ?? true
	});
	const closes: number[] = [];
	provider.on('connection-close', (event) => {
		if (event) closes.push(event.code);
	});
	return {
		doc: ydoc,
		provider,
		closes,
		destroy() {
			provider.destroy();
			ydoc.destroy();
		}
	};
}

export function synced(peer: Peer, ms = DEFAULT_DEADLINE_MS): Promise<void> {
	if (peer.provider.synced) return Promise.resolve();
	return withDeadline(
		new Promise<void>((resolve) => {
			const onSync = (isSynced: boolean) => {
				if (!isSynced) return;
				peer.provider.off('sync', onSync);
				resolve();
			};
			peer.provider.on('sync', onSync);
		}),
		'provider synced',
		ms
	);
}

/** Resolves when `read(doc)` is true, checked after every update of the document. */
export function docReaches(
	doc: Y.Doc,
	read: (doc: Y.Doc) => boolean,
	what: string,
	ms = DEFAULT_DEADLINE_MS
) {
	if (read(doc)) return Promise.resolve();
	return withDeadline(
		new Promise<void>((resolve) => {
			const onUpdate = () => {
				if (!read(doc)) return;
				doc.off('update', onUpdate);
				resolve();
			};
			doc.on('update', onUpdate);
		}),
		what,
		ms
	);
}

/** The next close code of the provider's socket. */
export function nextClose(peer: Peer, ms = DEFAULT_DEADLINE_MS): Promise<number> {
	return withDeadline(
		new Promise<number>((resolve) => {
			const onClose = (event: { code: number } | null) => {
				peer.provider.off('connection-close', onClose);
				resolve(event?.code ?? 0);
			};
			peer.provider.on('connection-close', onClose);
		}),
		'connection close',
		ms
	);
}

export type UpgradeOutcome =
	| { readonly kind: 'http'; readonly status: number }
	| { readonly kind: 'close'; readonly code: number };

/** Opens a raw socket and reports how it ended: an HTTP refusal or a close code. */
export function upgradeOutcome(
	url: string,
	headers: Record<string, string> = {},
	ms = DEFAULT_DEADLINE_MS
): Promise<UpgradeOutcome> {
	return withDeadline(
		new Promise<UpgradeOutcome>((resolve) => {
			const ws = new WebSocket(url, { headers });
			ws.on('unexpected-response', (_req, res) => {
				resolve({ kind: 'http', status: res.statusCode ?? 0 });
				res.resume();
				ws.terminate();
			});
			ws.on('error', () => {});
			ws.on('close', (code) => resolve({ kind: 'close', code }));
		}),
		`outcome of ${url.split('?')[0]}`,
		ms
	);
}

/** A raw, open socket (for sending malformed frames). */
export function openRaw(url: string, ms = DEFAULT_DEADLINE_MS): Promise<WebSocket> {
	return withDeadline(
		new Promise<WebSocket>((resolve, reject) => {
			const ws = new WebSocket(url);
			ws.binaryType = 'arraybuffer';
			ws.once('open', () => resolve(ws));
			ws.once('error', reject);
		}),
		'raw socket open',
		ms
	);
}

export function closeCodeOf(ws: WebSocket, ms = DEFAULT_DEADLINE_MS): Promise<number> {
	if (ws.readyState === WebSocket.CLOSED) return Promise.resolve(-1);
	return withDeadline(
		new Promise<number>((resolve) => ws.once('close', (code) => resolve(code))),
		'socket close',
		ms
	);
}
