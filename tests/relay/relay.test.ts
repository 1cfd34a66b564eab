// The relay with stock y-websocket providers over real sockets (SPEC.md RELAY*, ACK*).

import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { MessageType } from '../../server/protocol/messages.ts';
import type { UserId } from '../../server/protocol/ids.ts';
import {
	WS,
	W2,
	query,
	startRelay,
	testClients,
	synced,
	textBecomes,
	waitFor,
	type Harness
} from './helpers.ts';
import { RecordingStore } from './recordingStore.ts';
import { syncStep1Frame, updateFrame } from '../../server/relay/frames.ts';
import { scratchText, type WritableDoc } from '../helpers/schemaRoots.ts';

const ROOM = `${WS}/params`;
let harness: Harness | null = null;
const clients = testClients(() => harness!.url);
const { open, raw } = clients;

afterEach(async () => {
	clients.closeAll();
	await harness?.close();
	harness = null;
});

function savedVector(frame: Uint8Array): Map<number, number> {
	const d = decoding.createDecoder(frame);
	expect(decoding.readVarUint(d)).toBe(MessageType.saved);
	return Y.decodeStateVector(decoding.readVarUint8Array(d));
}

describe('relay', () => {
	it('[RELAY1] two stock providers converge on params and code', async () => {
		harness = await startRelay();
		for (const doc of ['params', 'code']) {
			const a = open(`${WS}/${doc}`, 'alice', 'editor');
			const b = open(`${WS}/${doc}`, 'bob', 'owner');
			await Promise.all([synced(a), synced(b)]);
			const kind = doc as WritableDoc;
			scratchText(a.doc, kind).insert(0, 'hello ');
			scratchText(b.doc, kind).insert(0, 'world ');
			await waitFor(
				() =>
					scratchText(a.doc, kind).toJSON() === scratchText(b.doc, kind).toJSON() &&
					scratchText(a.doc, kind).length === 12,
				'convergence'
			);
		}
	});

	it('[RELAY2] an update is in storage before any other client receives it', async () => {
		const store = new RecordingStore(new MemoryStorage());
		harness = await startRelay({ storage: store });
		const a = open(ROOM, 'alice', 'editor');
		const b = open(ROOM, 'bob', 'editor');
		await Promise.all([synced(a), synced(b)]);
		store.delayMs = 50;
		b.doc.on('update', () => store.events.push('received'));
		scratchText(a.doc).insert(0, 'x');
		await textBecomes(b.doc, 'x');
		expect(store.events.indexOf('stored:1')).toBeGreaterThanOrEqual(0);
		expect(store.events.indexOf('stored:1')).toBeLessThan(store.events.indexOf('received'));
	});

	it('[RELAY3] a new client does not receive state that is not yet stored', async () => {
		const store = new RecordingStore(new MemoryStorage());
		harness = await startRelay({ storage: store });
		const a = open(ROOM, 'alice', 'editor');
		await synced(a);
		store.delayMs = 100;
		scratchText(a.doc).insert(0, 'pending');
		// Wait until the relay has the update in flight, then sync a newcomer.
		await waitFor(() => harness!.relay.stats().updatesReceived === 1, 'update received');
		const c = raw(ROOM, query('carol', 'viewer'));
		await c.opened();
		c.send(syncStep1Frame(Y.encodeStateVector(new Y.Doc())));
		const first = decoding.createDecoder(await c.next(MessageType.sync));
		decoding.readVarUint(first);
		expect(decoding.readVarUint(first)).toBe(0); // the server's own sync step 1 comes first
		// Every message carrying document state came only after the write was stored.
		const doc = new Y.Doc();
		while (scratchText(doc).toJSON() !== 'pending') {
			const m = decoding.createDecoder(await c.next(MessageType.sync));
			decoding.readVarUint(m);
			expect(decoding.readVarUint(m)).not.toBe(0);
			expect(store.events).toContain('stored:1');
			Y.applyUpdate(doc, decoding.readVarUint8Array(m));
		}
	});

	it('[RELAY3] new clients loading the whole document share one encoding until it changes', async () => {
		harness = await startRelay();
		const a = open(ROOM, 'alice', 'editor');
		await synced(a);
		scratchText(a.doc).insert(0, 'one');
		await waitFor(() => harness!.relay.stats().updatesStored === 1, 'stored');
		const first = open(ROOM, 'bob', 'viewer');
		const second = open(ROOM, 'carol', 'viewer');
		await Promise.all([synced(first), synced(second)]);
		expect(scratchText(second.doc).toJSON()).toBe('one');
		scratchText(a.doc).insert(3, ' two');
		await waitFor(() => harness!.relay.stats().updatesStored === 2, 'stored');
		const third = open(ROOM, 'dave', 'viewer');
		await synced(third);
		expect(scratchText(third.doc).toJSON()).toBe('one two');
	});

	it('[ACK1] an opted-in connection gets saved after its initial sync and after each durable write', async () => {
		const store = new RecordingStore(new MemoryStorage());
		harness = await startRelay({ storage: store });
		const c = raw(ROOM, query('alice', 'editor', true));
		await c.opened();
		c.send(syncStep1Frame(new Uint8Array([0])));
		const initial = savedVector(await c.next(MessageType.saved));
		expect(initial.size).toBe(0);
		const doc = new Y.Doc();
		scratchText(doc).insert(0, 'abc');
		c.send(updateFrame(Y.encodeStateAsUpdate(doc)));
		const after = savedVector(await c.next(MessageType.saved));
		expect(after.get(doc.clientID)).toBe(3);
		expect(store.events).toEqual(['stored:1']);
	});

	it('[ACK2] stock clients never get the saved message', async () => {
		harness = await startRelay();
		const c = raw(ROOM, query('alice', 'editor', false));
		await c.opened();
		c.send(syncStep1Frame(new Uint8Array([0])));
		const doc = new Y.Doc();
		scratchText(doc).insert(0, 'abc');
		c.send(updateFrame(Y.encodeStateAsUpdate(doc)));
		await waitFor(() => harness!.relay.stats().updatesStored === 1, 'stored');
		// A query round trip proves everything before it was already handled.
		c.send(new Uint8Array([MessageType.queryAwareness]));
		await c.next(MessageType.sync);
		await expect(c.next(MessageType.saved, 100)).rejects.toThrow();
	});

	it('[RELAY4] a failed write is counted, not relayed, not acknowledged, and stored on retry', async () => {
		const store = new RecordingStore(new MemoryStorage());
		harness = await startRelay({ storage: store, limits: { storeRetryMs: 50 } });
		const b = open(ROOM, 'bob', 'editor');
		await synced(b);
		const c = raw(ROOM, query('alice', 'editor', true));
		await c.opened();
		c.send(syncStep1Frame(new Uint8Array([0])));
		await c.next(MessageType.saved);
		store.failing = new Error('disk full');
		const doc = new Y.Doc();
		scratchText(doc).insert(0, 'keep me');
		c.send(updateFrame(Y.encodeStateAsUpdate(doc)));
		await waitFor(() => harness!.relay.stats().storeFailures >= 2, 'two failed attempts');
		expect(scratchText(b.doc).toJSON()).toBe('');
		expect(c.received.some((m) => m[0] === MessageType.saved)).toBe(false);
		store.failing = null;
		const saved = savedVector(await c.next(MessageType.saved));
		expect(saved.get(doc.clientID)).toBe(7);
		await textBecomes(b.doc, 'keep me');
		const loaded = await store.inner.loadDoc(ROOM as never);
		expect(loaded.updates.length).toBe(1);
	});

	it('[RELAY5] a server-side write is stored, then relayed, and open() shares the loaded doc', async () => {
		const store = new RecordingStore(new MemoryStorage());
		harness = await startRelay({ storage: store });
		const b = open(ROOM, 'bob', 'viewer');
		await synced(b);
		const key = { workspace: WS, doc: 'params' as const };
		const handle = await harness.relay.open(key);
		await harness.relay.write(key, 'trainer' as UserId, (doc) =>
			doc.getMap('hyperparameters').set('epochs', 7)
		);
		expect(store.events).toEqual(['stored:1']);
		expect(handle.doc.getMap('hyperparameters').get('epochs')).toBe(7);
		await waitFor(() => b.doc.getMap('hyperparameters').get('epochs') === 7, 'relayed');
		handle.release();
		const history = await store.inner.history(ROOM as never);
		expect(history[0]?.author).toBe('trainer');
	});

	it('[RELAY6] an idle document unloads, compacts, and reloads with its content', async () => {
		const store = new RecordingStore(new MemoryStorage());
		harness = await startRelay({ storage: store, idleUnloadMs: 20 });
		const a = open(ROOM, 'alice', 'editor');
		await synced(a);
		scratchText(a.doc).insert(0, 'persist');
		await waitFor(() => harness!.relay.stats().updatesStored === 1, 'stored');
		a.destroy();
		await waitFor(() => harness!.relay.stats().documentsLoaded === 0, 'unloaded');
		expect(store.compactions).toBe(1);
		const b = open(ROOM, 'bob', 'viewer');
		await synced(b);
		expect(scratchText(b.doc).toJSON()).toBe('persist');
		expect(store.loads).toBeGreaterThanOrEqual(2);
	});

	it('[RELAY9] a document stored in one piece answers a new client with the stored bytes and their state vector, and builds its doc only for a write', async () => {
		const store = new RecordingStore(new MemoryStorage());
		harness = await startRelay({ storage: store, idleUnloadMs: 20 });
		const a = open(ROOM, 'alice', 'editor');
		await synced(a);
		scratchText(a.doc).insert(0, 'stored once');
		await waitFor(() => harness!.relay.stats().updatesStored === 1, 'stored');
		a.destroy();
		await waitFor(() => harness!.relay.stats().documentsLoaded === 0, 'unloaded');
		const stored = await store.inner.loadDoc(ROOM as never);
		expect(stored.updates).toEqual([]);
		const snapshot = stored.snapshot!;

		const c = raw(ROOM, query('carol', 'viewer', true));
		await c.opened();
		c.send(syncStep1Frame(Y.encodeStateVector(new Y.Doc())));
		// The answer comes first, and it is what storage holds, byte for byte.
		const answer = decoding.createDecoder(await c.next(MessageType.sync));
		decoding.readVarUint(answer);
		expect(decoding.readVarUint(answer)).toBe(1);
		expect(decoding.readVarUint8Array(answer)).toEqual(snapshot);
		const expected = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(snapshot));
		expect(savedVector(await c.next(MessageType.saved))).toEqual(expected);
		// Then the server's own sync step 1, with the same state vector.
		const stepOne = decoding.createDecoder(await c.next(MessageType.sync));
		decoding.readVarUint(stepOne);
		expect(decoding.readVarUint(stepOne)).toBe(0);
		expect(Y.decodeStateVector(decoding.readVarUint8Array(stepOne))).toEqual(expected);
		// Read from the stored bytes: the doc was not built for any of it.
		expect(harness.relay.stats().documentsBuilt).toBe(0);

		// Writes carry on from the stored state.
		const b = open(ROOM, 'bob', 'editor');
		await synced(b);
		expect(scratchText(b.doc).toJSON()).toBe('stored once');
		scratchText(b.doc).insert(11, ', then more');
		const d = open(ROOM, 'dave', 'viewer');
		await textBecomes(d.doc, 'stored once, then more');
		expect(harness.relay.stats().documentsBuilt).toBe(1);
	});

	it('[RELAY9] a stored log is answered as it is stored: a few updates one by one, many merged into one', async () => {
		const store = new RecordingStore(new MemoryStorage());
		const rooms = { [ROOM]: 3, [`${W2}/params`]: 12 };
		const stored = new Map<string, Uint8Array[]>();
		for (const [room, count] of Object.entries(rooms)) {
			const writer = new Y.Doc();
			const updates: Uint8Array[] = [];
			writer.on('update', (u: Uint8Array) => updates.push(u));
			for (let i = 0; i < count; i++)
				scratchText(writer).insert(scratchText(writer).length, `${i} `);
			stored.set(room, updates);
			await store.inner.appendUpdates(
				updates.map((update) => ({ room: room as never, update, author: null, at: 0 }))
			);
		}
		harness = await startRelay({ storage: store });
		const answer = async (room: string): Promise<Array<[number, Uint8Array]>> => {
			const c = raw(room, query('carol', 'viewer'));
			await c.opened();
			c.send(syncStep1Frame(Y.encodeStateVector(new Y.Doc())));
			const messages: Array<[number, Uint8Array]> = [];
			for (;;) {
				const m = decoding.createDecoder(await c.next(MessageType.sync));
				decoding.readVarUint(m);
				const step = decoding.readVarUint(m);
				if (step === 0) continue; // the server's own sync step 1
				messages.push([step, decoding.readVarUint8Array(m)]);
				if (step === 1) return messages;
			}
		};
		const few = await answer(ROOM);
		expect(few.map(([step]) => step)).toEqual([2, 2, 1]);
		expect(few.map(([, bytes]) => bytes)).toEqual(stored.get(ROOM));
		const many = await answer(`${W2}/params`);
		expect(many.map(([step]) => step)).toEqual([1]);
		const doc = new Y.Doc();
		Y.applyUpdate(doc, many[0]![1]);
		expect(scratchText(doc).toJSON()).toBe(Array.from({ length: 12 }, (_, i) => `${i} `).join(''));
		const b = open(`${W2}/params`, 'bob', 'viewer');
		await textBecomes(b.doc, scratchText(doc).toJSON());
	});

	it('[RELAY9] a server-side write to a cold document builds the doc from storage first', async () => {
		const store = new RecordingStore(new MemoryStorage());
		harness = await startRelay({ storage: store, idleUnloadMs: 20 });
		const key = { workspace: WS, doc: 'params' as const };
		await harness.relay.write(key, 'trainer' as UserId, (doc) =>
			doc.getMap('hyperparameters').set('epochs', 7)
		);
		await waitFor(() => harness!.relay.stats().documentsLoaded === 0, 'unloaded');
		await harness.relay.write(key, 'trainer' as UserId, (doc) => {
			// Inside the same turn as the load: the doc already holds what was stored.
			expect(doc.getMap('hyperparameters').get('epochs')).toBe(7);
			doc.getMap('hyperparameters').set('batch_size', 32);
		});
		const b = open(ROOM, 'bob', 'viewer');
		await synced(b);
		expect(b.doc.getMap('hyperparameters').toJSON()).toEqual({ epochs: 7, batch_size: 32 });
	});

	it('[RELAY7] close() stores what is pending and closes every socket with 1012', async () => {
		const store = new RecordingStore(new MemoryStorage());
		harness = await startRelay({ storage: store });
		const c = raw(ROOM, query('alice', 'editor'));
		await c.opened();
		store.delayMs = 30;
		const doc = new Y.Doc();
		scratchText(doc).insert(0, 'last words');
		c.send(updateFrame(Y.encodeStateAsUpdate(doc)));
		await waitFor(() => harness!.relay.stats().updatesReceived === 1, 'received');
		await harness.relay.close();
		expect(await c.closed).toBe(1012);
		const loaded = await store.inner.loadDoc(ROOM as never);
		expect(loaded.updates.length).toBe(1);
	});
});
