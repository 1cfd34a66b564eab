// Limits and bad input (SPEC.md LIMIT*): size, rate, malformed frames, slow consumers.

import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { MessageType } from '../../server/protocol/messages.ts';
import { silentLogger, systemClock } from '../../server/runtime.ts';
import type { UserId } from '../../server/protocol/ids.ts';
import { Relay } from '../../server/relay/relay.ts';
import { encodeAwarenessEntries } from '../../server/relay/awareness.ts';
import {
	awarenessFrame,
	syncStep1Frame,
	syncStep2Frame,
	updateFrame
} from '../../server/relay/frames.ts';
import { FakeSocket } from './fakeSocket.ts';
import { RecordingStore } from './recordingStore.ts';
import { mulberry32 } from '../helpers/random.ts';
import { seedFromEnv } from './random.ts';
import {
	RawClient,
	WS,
	W2,
	provider,
	query,
	startRelay,
	synced,
	textBecomes,
	type Harness
} from './helpers.ts';
import { scratchText } from '../helpers/schemaRoots.ts';

const ROOM = `${WS}/params`;
let harness: Harness | null = null;
const providers: WebsocketProvider[] = [];
const raws: RawClient[] = [];

function raw(room: string, q: string): RawClient {
	const c = new RawClient(harness!.url, room, q);
	raws.push(c);
	return c;
}

afterEach(async () => {
	for (const p of providers.splice(0)) p.destroy();
	for (const c of raws.splice(0)) c.close();
	await harness?.close();
	harness = null;
});

function validFrames(): Uint8Array[] {
	const doc = new Y.Doc();
	const updates: Uint8Array[] = [];
	doc.on('update', (u: Uint8Array) => updates.push(u));
	scratchText(doc).insert(0, 'héllo wörld');
	doc.getMap('hyperparameters').set('epochs', { n: 5, list: [1, 'two', null] });
	scratchText(doc).delete(2, 3);
	const list = new Y.Array<unknown>();
	doc.getMap('hyperparameters').set('list', list);
	list.insert(0, [new Uint8Array([1, 2]), 3.5]);
	return [
		...updates.map(updateFrame),
		syncStep2Frame(Y.encodeStateAsUpdate(doc)),
		syncStep1Frame(Y.encodeStateVector(doc)),
		awarenessFrame(encodeAwarenessEntries([{ clientID: 9, clock: 2, state: { cursor: { a: 1 } } }]))
	];
}

async function syncStep2(c: RawClient): Promise<number> {
	for (;;) {
		const m = await c.next(MessageType.sync, 5000);
		if (m[1] === 1) return 0;
	}
}

describe('limits', () => {
	it('[LIMIT1] a message over the size limit closes that socket with 1009', async () => {
		harness = await startRelay({ limits: { maxMessageBytes: 1024 } });
		const c = raw(ROOM, query('alice', 'editor'));
		await c.opened();
		c.send(updateFrame(new Uint8Array(2048)));
		expect(await c.closed).toBe(1009);
	});

	it('[LIMIT2] a flood beyond the rate limit closes that socket with 4429', async () => {
		harness = await startRelay({ limits: { messagesPerSecond: 10, messageBurst: 20 } });
		const c = raw(ROOM, query('alice', 'editor'));
		await c.opened();
		for (let i = 0; i < 60; i++) c.send(new Uint8Array([MessageType.queryAwareness]));
		expect(await c.closed).toBe(4429);
	});

	it('[LIMIT3] random, truncated, mutated and unknown frames close only that socket while another workspace keeps syncing', async () => {
		const seed = seedFromEnv();
		console.log(`relay fuzz seed ${seed} (replay with RELAY_SEED=${seed})`);
		const rand = mulberry32(seed);
		const store = new MemoryStorage();
		harness = await startRelay({ storage: store });
		const a = provider(harness.url, `${W2}/code`, 'alice', 'editor');
		const b = provider(harness.url, `${W2}/code`, 'bob', 'editor');
		providers.push(a, b);
		await Promise.all([synced(a), synced(b)]);
		const valid = validFrames();
		const codes = new Map<number, number>();
		for (let round = 0; round < 40; round++) {
			const c = raw(ROOM, query(`fuzz${round}`, 'editor'));
			await c.opened();
			for (let i = 0; i < 10; i++) {
				const kind = Math.floor(rand() * 5);
				const base = valid[Math.floor(rand() * valid.length)]!;
				let frame: Uint8Array;
				if (kind === 0)
					frame = Uint8Array.from({ length: 1 + Math.floor(rand() * 64) }, () =>
						Math.floor(rand() * 256)
					);
				else if (kind === 1) frame = base.slice(0, Math.floor(rand() * base.length));
				else if (kind === 2) {
					frame = base.slice();
					for (let f = 0; f < 1 + Math.floor(rand() * 3); f++)
						frame[Math.floor(rand() * frame.length)] = Math.floor(rand() * 256);
				} else if (kind === 3) frame = new Uint8Array([4 + Math.floor(rand() * 250), 0, 0]);
				else frame = base;
				c.send(frame);
			}
			// Meanwhile the other workspace keeps syncing.
			scratchText(a.doc, 'code').insert(0, `${round % 10}`);
			await textBecomes(b.doc, scratchText(a.doc, 'code').toJSON(), 'code');
			// Either the socket was closed, or it still answers a sync request (0).
			c.send(syncStep1Frame(new Uint8Array([0])));
			const code = await Promise.race([c.closed, syncStep2(c)]);
			codes.set(code, (codes.get(code) ?? 0) + 1);
			c.close();
		}
		// A mutated root name is refused as not in the schema (4423, SCHEMA1).
		for (const code of codes.keys()) expect([0, 1002, 1003, 1007, 4423]).toContain(code);
		// The fuzzed document still works: a new client syncs and the doc encodes.
		const probe = provider(harness.url, ROOM, 'carol', 'editor');
		providers.push(probe);
		await synced(probe);
		const handle = await harness.relay.open({ workspace: WS, doc: 'params' });
		expect(() => Y.encodeStateAsUpdate(handle.doc)).not.toThrow();
		handle.release();
		console.log('close codes seen', Object.fromEntries(codes));
	});

	it('[LIMIT3] a text frame closes with 1003', async () => {
		harness = await startRelay();
		const c = raw(ROOM, query('alice', 'editor'));
		await c.opened();
		c.socket.send('hello');
		expect(await c.closed).toBe(1003);
	});

	it('[LIMIT6] an oversized awareness state closes with 1009', async () => {
		harness = await startRelay({ limits: { maxAwarenessBytes: 100 } });
		const c = raw(ROOM, query('alice', 'editor'));
		await c.opened();
		c.send(
			awarenessFrame(
				encodeAwarenessEntries([{ clientID: 1, clock: 1, state: { big: 'x'.repeat(200) } }])
			)
		);
		expect(await c.closed).toBe(1009);
	});

	it('[LIMIT6] while too many updates wait for storage, further client updates are refused with 1013', async () => {
		const store = new RecordingStore(new MemoryStorage());
		store.failing = new Error('database down');
		harness = await startRelay({
			storage: store,
			limits: { maxUnstoredUpdates: 3, storeRetryMs: 60_000 }
		});
		const c = raw(ROOM, query('alice', 'editor'));
		await c.opened();
		const doc = new Y.Doc();
		const updates: Uint8Array[] = [];
		doc.on('update', (u: Uint8Array) => updates.push(u));
		for (let i = 0; i < 5; i++) scratchText(doc).insert(i, 'x');
		for (const u of updates) c.send(updateFrame(u));
		expect(await c.closed).toBe(1013);
		expect(harness.relay.stats().storeFailures).toBeGreaterThanOrEqual(1);
	});

	it('[LIMIT5] a slow consumer is closed with 1013 instead of buffering without bound', async () => {
		const relay = new Relay({
			storage: new MemoryStorage(),
			clock: systemClock,
			logger: silentLogger,
			limits: { maxBufferedBytes: 1000 }
		});
		const key = { workspace: WS, doc: 'params' as const };
		const slow = new FakeSocket();
		const identity = {
			id: 'sam' as UserId,
			name: 'Sam',
			email: 's@x',
			color: '#000',
			role: 'viewer' as const
		};
		relay.handleConnection(slow, key, identity, { ack: false });
		const handle = await relay.open(key);
		await new Promise((r) => setImmediate(r));
		expect(slow.sent.length).toBeGreaterThan(0);
		slow.bufferedAmount = 5000;
		await relay.write(key, null, (doc) => scratchText(doc).insert(0, 'x'));
		expect(slow.closeCode).toBe(1013);
		handle.release();
		await relay.close();
	});
});
