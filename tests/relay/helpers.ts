// Test harness for the relay: a real `ws` server on port 0 that hands sockets to
// a Relay with an identity taken from the query string (authentication is the
// api helper's part), stock y-websocket providers, and raw sockets for crafted
// frames.

import { WebSocketServer, WebSocket } from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import * as decoding from 'lib0/decoding';
import type { AddressInfo } from 'node:net';
import { parseRoomName } from '../../server/protocol/docs.ts';
import {
	parseUserId,
	parseWorkspaceId,
	type UserId,
	type WorkspaceId
} from '../../server/protocol/ids.ts';
import { isRole, type Role } from '../../server/protocol/roles.ts';
import { userColor } from '../../server/protocol/colors.ts';
import { silentLogger, systemClock } from '../../server/runtime.ts';
import { MemoryStorage } from '../../server/storage/memory.ts';
import type { DocumentStore } from '../../server/storage/types.ts';
import type { Bus } from '../../server/relay/bus.ts';
import type { RelayLimits } from '../../server/relay/limits.ts';
import { Relay } from '../../server/relay/relay.ts';
import { scratchText, type WritableDoc } from '../helpers/schemaRoots.ts';

export interface Harness {
	readonly relay: Relay;
	readonly url: string;
	close(): Promise<void>;
}

export async function startRelay(
	options: {
		storage?: DocumentStore;
		bus?: Bus;
		limits?: Partial<RelayLimits>;
		idleUnloadMs?: number;
		/** false: do not wait for the control channel (the bus may be down). */
		waitReady?: boolean;
	} = {}
): Promise<Harness> {
	const relay = new Relay({
		storage: options.storage ?? new MemoryStorage(),
		bus: options.bus,
		clock: systemClock,
		logger: silentLogger,
		limits: options.limits,
		idleUnloadMs: options.idleUnloadMs
	});
	if (options.waitReady !== false) await relay.ready();
	const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
	await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
	wss.on('connection', (socket, req) => {
		const url = new URL(req.url ?? '/', 'http://x');
		const key = parseRoomName(url.pathname.replace(/^\/ws\//, ''));
		const id = parseUserId(url.searchParams.get('user') ?? '');
		const role = url.searchParams.get('role');
		if (!key || !id || !isRole(role)) {
			socket.close(4400, 'bad test request');
			return;
		}
		relay.handleConnection(
			socket,
			key,
			{
				id,
				name: url.searchParams.get('name') ?? id,
				email: `${id}@example.test`,
				color: userColor(id),
				role
			},
			{ ack: url.searchParams.get('ack') === '1' }
		);
	});
	const { port } = wss.address() as AddressInfo;
	return {
		relay,
		url: `ws://127.0.0.1:${port}/ws`,
		async close() {
			await relay.close();
			for (const client of wss.clients) client.terminate();
			await new Promise<void>((resolve) => wss.close(() => resolve()));
		}
	};
}

export const WS = 'w1' as WorkspaceId;
export const W2 = 'w2' as WorkspaceId;

export function provider(
	url: string,
	room: string,
	user: string,
	role: Role,
	extra: Record<string, string> = {},
	doc = new Y.Doc()
): WebsocketProvider {
	return new WebsocketProvider(url, room, doc, {
		WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
		disableBc: true,
		params: { user, role, name: user, ...extra },
		maxBackoffTime: 200
	});
}

export function synced(p: WebsocketProvider): Promise<void> {
	if (p.synced) return Promise.resolve();
	return new Promise((resolve) => {
		const on = (isSynced: boolean): void => {
			if (!isSynced) return;
			p.off('sync', on);
			resolve();
		};
		p.on('sync', on);
	});
}

/** Polls a condition with a deadline (only where no event exists). */
export async function waitFor(
	condition: () => boolean,
	what: string,
	timeoutMs = 5000
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 5));
	}
}

/** Resolves when the doc's scratch text (tests/helpers/schemaRoots.ts) equals `value`. */
export function textBecomes(
	doc: Y.Doc,
	value: string,
	kind: WritableDoc = 'params'
): Promise<void> {
	const text = scratchText(doc, kind);
	if (text.toJSON() === value) return Promise.resolve();
	return new Promise((resolve) => {
		const on = (): void => {
			if (text.toJSON() !== value) return;
			doc.off('update', on);
			resolve();
		};
		doc.on('update', on);
	});
}

/** A raw WebSocket client: sends crafted frames and records what arrives and how it closed. */
export class RawClient {
	readonly socket: WebSocket;
	readonly received: Uint8Array[] = [];
	readonly closed: Promise<number>;
	readonly #waiters: Array<() => void> = [];

	constructor(url: string, room: string, query: string) {
		this.socket = new WebSocket(`${url}/${room}?${query}`);
		this.socket.binaryType = 'nodebuffer';
		this.socket.on('message', (data: Buffer) => {
			this.received.push(new Uint8Array(data));
			for (const w of this.#waiters.splice(0)) w();
		});
		this.closed = new Promise((resolve) => this.socket.on('close', (code) => resolve(code)));
		this.socket.on('error', () => {});
	}

	opened(): Promise<void> {
		if (this.socket.readyState === WebSocket.OPEN) return Promise.resolve();
		return new Promise((resolve, reject) => {
			this.socket.once('open', () => resolve());
			this.socket.once('close', () => reject(new Error('closed before open')));
		});
	}

	send(bytes: Uint8Array): void {
		this.socket.send(bytes);
	}

	/** Waits for a message of the given type (first varUint). */
	async next(type: number, timeoutMs = 5000): Promise<Uint8Array> {
		const deadline = Date.now() + timeoutMs;
		let seen = 0;
		for (;;) {
			for (; seen < this.received.length; seen++) {
				const m = this.received[seen]!;
				if (decoding.readVarUint(decoding.createDecoder(m)) === type) {
					this.received.splice(seen, 1);
					return m;
				}
			}
			if (Date.now() > deadline) throw new Error(`no message of type ${type}`);
			await new Promise<void>((resolve) => {
				const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
				this.#waiters.push(() => {
					clearTimeout(t);
					resolve();
				});
			});
		}
	}

	close(): void {
		this.socket.terminate();
	}
}

export function query(user: string, role: Role, ack = false): string {
	return `user=${user}&role=${role}${ack ? '&ack=1' : ''}`;
}

export type { UserId };
export { parseWorkspaceId };

/**
 * The stock providers and raw sockets one test opens against its relay (`url()`
 * reads the harness the test started), so that `closeAll()` after each test
 * closes every one of them.
 */
export function testClients(url: () => string) {
	const providers: WebsocketProvider[] = [];
	const raws: RawClient[] = [];
	return {
		open: (room: string, user: string, role: Role, extra: Record<string, string> = {}) => {
			const p = provider(url(), room, user, role, extra);
			providers.push(p);
			return p;
		},
		raw: (room: string, q: string): RawClient => {
			const c = new RawClient(url(), room, q);
			raws.push(c);
			return c;
		},
		closeAll: (): void => {
			for (const p of providers.splice(0)) p.destroy();
			for (const c of raws.splice(0)) c.close();
		}
	};
}
