// Storage that fails or stalls under a live relay (SPEC.md DURABLE*): writers are
// told within 2 s that nothing is being saved, nothing is acknowledged, memory
// stays bounded, and once storage answers again everything queued is stored and
// acknowledged. Real SQLite underneath a wrapper that fails or stalls on demand.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { SqliteStorage } from '../../server/storage/sqlite.ts';
import { MessageType, StorageState } from '../../server/protocol/messages.ts';
import { CloseCode } from '../../server/protocol/closeCodes.ts';
import type { RoomName } from '../../server/protocol/docs.ts';
import { syncStep1Frame, updateFrame } from '../../server/relay/frames.ts';
import {
	WS,
	query,
	startRelay,
	synced,
	testClients,
	textBecomes,
	waitFor,
	type Harness
} from './helpers.ts';
import { RecordingStore } from './recordingStore.ts';
import { scratchText } from '../helpers/schemaRoots.ts';

const ROOM = `${WS}/params`;
let harness: Harness | null = null;
let dir = '';
let sqlite: SqliteStorage | null = null;
let store: RecordingStore;
const clients = testClients(() => harness!.url);
const { open, raw } = clients;

beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'ensemble-durable-'));
	sqlite = new SqliteStorage({ path: join(dir, 'ensemble.db'), writer: 'inline' });
	store = new RecordingStore(sqlite);
});

afterEach(async () => {
	clients.closeAll();
	await harness?.close();
	harness = null;
	await sqlite?.close();
	rmSync(dir, { recursive: true, force: true });
});

function storageState(frame: Uint8Array): number {
	const d = decoding.createDecoder(frame);
	expect(decoding.readVarUint(d)).toBe(MessageType.storage);
	return decoding.readVarUint(d);
}

function savedVector(frame: Uint8Array): Map<number, number> {
	const d = decoding.createDecoder(frame);
	expect(decoding.readVarUint(d)).toBe(MessageType.saved);
	return Y.decodeStateVector(decoding.readVarUint8Array(d));
}

/** An ack client that has finished its initial sync. */
async function writer(user = 'alice') {
	const c = raw(ROOM, query(user, 'editor', true));
	await c.opened();
	c.send(syncStep1Frame(new Uint8Array([0])));
	await c.next(MessageType.saved);
	return c;
}

function edit(text: string): { doc: Y.Doc; update: Uint8Array } {
	const doc = new Y.Doc();
	scratchText(doc).insert(0, text);
	return { doc, update: Y.encodeStateAsUpdate(doc) };
}

describe('storage faults', () => {
	it('[DURABLE1] when storage fails, writers learn within 2 s that nothing is saved; when it is back, all is stored and acknowledged', async () => {
		harness = await startRelay({ storage: store, limits: { storeRetryMs: 50 } });
		const reader = open(ROOM, 'bob', 'editor');
		await synced(reader);
		const c = await writer();
		store.failing = new Error('SQLITE_FULL: database or disk is full');
		const { doc, update } = edit('keep me');
		const sent = Date.now();
		c.send(updateFrame(update));
		expect(storageState(await c.next(MessageType.storage, 2000))).toBe(StorageState.notStoring);
		expect(Date.now() - sent).toBeLessThan(2000);
		expect(harness.relay.storing()).toBe(false);
		// A client connecting now is told too, at once.
		const late = raw(ROOM, query('carol', 'editor', true));
		expect(storageState(await late.next(MessageType.storage, 2000))).toBe(StorageState.notStoring);
		await waitFor(() => harness!.relay.stats().storeFailures >= 2, 'a retry failed too');
		expect(c.received.some((m) => m[0] === MessageType.saved)).toBe(false);
		expect(scratchText(reader.doc).toJSON()).toBe('');

		store.failing = null;
		expect(storageState(await c.next(MessageType.storage))).toBe(StorageState.storing);
		expect(savedVector(await c.next(MessageType.saved)).get(doc.clientID)).toBe(7);
		await textBecomes(reader.doc, 'keep me');
		expect(harness.relay.storing()).toBe(true);
		const stored = await sqlite!.loadDoc(ROOM as RoomName);
		const check = new Y.Doc();
		for (const u of stored.updates) Y.applyUpdate(check, u.update);
		expect(scratchText(check).toJSON()).toBe('keep me');
	});

	it('[DURABLE1] a stalled store (no answer, no error) counts as failing after storeStallMs; a new client waits, told why, and gets its sync once storage answers', async () => {
		harness = await startRelay({ storage: store, limits: { storeStallMs: 300 } });
		const c = await writer();
		const release = store.stall();
		c.send(updateFrame(edit('stalled').update));
		expect(storageState(await c.next(MessageType.storage, 2000))).toBe(StorageState.notStoring);
		expect(harness.relay.storing()).toBe(false);
		const late = raw(ROOM, query('carol', 'editor', true));
		await late.opened();
		late.send(syncStep1Frame(new Uint8Array([0])));
		expect(storageState(await late.next(MessageType.storage))).toBe(StorageState.notStoring);
		// Its sync reply would hold unstored state: it waits.
		expect(late.received.filter((m) => m[0] === MessageType.sync).length).toBe(1);

		release();
		expect(storageState(await late.next(MessageType.storage))).toBe(StorageState.storing);
		await late.next(MessageType.saved);
		const replies = late.received.filter((m) => m[0] === MessageType.sync);
		const reply = replies.at(-1)!;
		const d = decoding.createDecoder(reply);
		decoding.readVarUint(d);
		expect(decoding.readVarUint(d)).toBe(1);
		const fresh = new Y.Doc();
		Y.applyUpdate(fresh, decoding.readVarUint8Array(d));
		expect(scratchText(fresh).toJSON()).toBe('stalled');
		expect(harness.relay.storing()).toBe(true);
	});

	it('[DURABLE2] the bytes waiting for storage are bounded: a writer past maxUnstoredBytes is closed with 1013, and what was queued is stored once storage is back', async () => {
		harness = await startRelay({
			storage: store,
			limits: { storeRetryMs: 50, maxUnstoredBytes: 4000 }
		});
		const c = await writer();
		store.failing = new Error('disk full');
		const doc = new Y.Doc();
		const text = scratchText(doc);
		let queued = '';
		let sv = Y.encodeStateVector(doc);
		for (let i = 0; i < 10 && c.socket.readyState === c.socket.OPEN; i++) {
			const chunk = String(i).repeat(1000);
			text.insert(text.length, chunk);
			c.send(updateFrame(Y.encodeStateAsUpdate(doc, sv)));
			sv = Y.encodeStateVector(doc);
			if (i < 3) queued += chunk;
		}
		expect(await c.closed).toBe(CloseCode.tryAgainLater);
		store.failing = null;
		await waitFor(() => harness!.relay.storing() && store.appended > 0, 'stored after recovery');
		const stored = await sqlite!.loadDoc(ROOM as RoomName);
		const check = new Y.Doc();
		for (const u of stored.updates) Y.applyUpdate(check, u.update);
		// Everything accepted before the limit is stored, in order; nothing after it.
		expect(scratchText(check).toJSON()).toBe(queued);
	});

	it('[DURABLE2] clients waiting for a sync reply are bounded (maxSyncWaiters, then 1013)', async () => {
		harness = await startRelay({ storage: store, limits: { maxSyncWaiters: 1 } });
		const c = await writer();
		const release = store.stall();
		c.send(updateFrame(edit('x').update));
		await c.next(MessageType.storage, 2000);
		const first = raw(ROOM, query('carol', 'editor', true));
		const second = raw(ROOM, query('dave', 'editor', true));
		await Promise.all([first.opened(), second.opened()]);
		first.send(syncStep1Frame(new Uint8Array([0])));
		await first.next(MessageType.storage);
		second.send(syncStep1Frame(new Uint8Array([0])));
		expect(await second.closed).toBe(CloseCode.tryAgainLater);
		release();
		await first.next(MessageType.saved);
	});

	it('[DURABLE3] a document whose load fails (storage down) closes with 1013, retryable, and loads once storage is back', async () => {
		harness = await startRelay({ storage: store });
		store.loadFailing = new Error('connection refused');
		const c = raw(ROOM, query('alice', 'editor', true));
		expect(await c.closed).toBe(CloseCode.tryAgainLater);
		store.loadFailing = null;
		await writer('bob');
	});

	it('[LIMIT3] messages held while a document loads are bounded in bytes too (maxLoadingBytes, then 1013)', async () => {
		harness = await startRelay({
			storage: store,
			limits: { maxLoadingBytes: 2048, maxMessageBytes: 2048 }
		});
		store.loadDelayMs = 500;
		const c = raw(ROOM, query('alice', 'editor', true));
		await c.opened();
		const big = updateFrame(edit('y'.repeat(900)).update);
		for (let i = 0; i < 3; i++) c.send(big);
		expect(await c.closed).toBe(CloseCode.tryAgainLater);
	});
});
