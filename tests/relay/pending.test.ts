// Updates that arrive before one they depend on (SPEC.md PENDING1, PENDING2). Yjs
// would hold them as pending and apply them later inside another transaction,
// where they are relayed but never stored, and would put them in sync replies.
// Every byte anyone receives must be in storage.

import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { MemoryHub } from '../../server/relay/bus.ts';
import { MessageType } from '../../server/protocol/messages.ts';
import type { RoomName } from '../../server/protocol/docs.ts';
import { syncStep1Frame, updateFrame } from '../../server/relay/frames.ts';
import {
	RawClient,
	WS,
	provider,
	query,
	startRelay,
	synced,
	textBecomes,
	waitFor,
	type Harness
} from './helpers.ts';
import { scratchText } from '../helpers/schemaRoots.ts';

const ROOM = `${WS}/params`;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

function track<T extends { close(): Promise<void> | void }>(x: T): T {
	cleanups.push(() => x.close());
	return x;
}

/** U1 types "hello"; U2 appends " world" after it, so U2 depends on U1. */
function dependentPair(): { u1: Uint8Array; u2: Uint8Array } {
	const doc = new Y.Doc();
	scratchText(doc).insert(0, 'hello');
	const u1 = Y.encodeStateAsUpdate(doc);
	const sv = Y.encodeStateVector(doc);
	scratchText(doc).insert(5, ' world');
	return { u1, u2: Y.encodeStateAsUpdate(doc, sv) };
}

async function storedText(
	store: MemoryStorage
): Promise<{ text: string; sv: Map<number, number> }> {
	const loaded = await store.loadDoc(ROOM as RoomName);
	const doc = new Y.Doc();
	for (const u of loaded.updates) Y.applyUpdate(doc, u.update);
	return { text: scratchText(doc).toJSON(), sv: Y.decodeStateVector(Y.encodeStateVector(doc)) };
}

/** The update carried by a sync step 2 frame. */
function step2Update(frame: Uint8Array): Uint8Array {
	const d = decoding.createDecoder(frame);
	decoding.readVarUint(d);
	expect(decoding.readVarUint(d)).toBe(1);
	return decoding.readVarUint8Array(d);
}

async function raw(h: Harness, user: string, ack = false): Promise<RawClient> {
	const c = new RawClient(h.url, ROOM, query(user, 'editor', ack));
	cleanups.push(() => c.close());
	await c.opened();
	return c;
}

describe('updates with missing dependencies', () => {
	it('[PENDING1] a sync reply never holds an update the relay has not stored; the sender is asked to re-sync', async () => {
		const store = new MemoryStorage();
		const h = track(await startRelay({ storage: store }));
		const { u2 } = dependentPair();
		const x = await raw(h, 'xavier');
		await x.next(MessageType.sync); // the server's sync step 1 on connect
		x.send(updateFrame(u2));
		// The relay asks for what it lacks instead of holding U2.
		await x.next(MessageType.sync);

		const z = await raw(h, 'zoe', true);
		z.send(syncStep1Frame(new Uint8Array([0])));
		await z.next(MessageType.saved);
		const reply = z.received.filter((m) => m[0] === MessageType.sync).at(-1)!;
		const meta = Y.parseUpdateMeta(step2Update(reply));
		const { sv } = await storedText(store);
		for (const [client, clock] of meta.to) expect(clock).toBeLessThanOrEqual(sv.get(client) ?? 0);
		expect(h.relay.stats().updatesHeldBack).toBe(1);
	});

	it('[PENDING1] a stock client that sent an update too early re-sends it whole when asked, and it is stored', async () => {
		const store = new MemoryStorage();
		const h = track(await startRelay({ storage: store }));
		const { u1, u2 } = dependentPair();
		const writer = provider(h.url, ROOM, 'xavier', 'editor');
		cleanups.push(() => writer.destroy());
		await synced(writer);
		// The client's doc has both (origin: the provider, so it does not send them);
		// the server gets only the second (as after a
		// reconnect to a process that has not yet received the first).
		Y.applyUpdate(writer.doc, u1, writer);
		Y.applyUpdate(writer.doc, u2, writer);
		writer.ws!.send(updateFrame(u2) as Uint8Array<ArrayBuffer>);
		const reader = provider(h.url, ROOM, 'rita', 'viewer');
		cleanups.push(() => reader.destroy());
		await synced(reader);
		await waitFor(() => h.relay.stats().updatesHeldBack === 1, 'the early update held back');
		// Asked for what the relay lacks, the client sends U1 and U2 together.
		await textBecomes(reader.doc, 'hello world');
		expect((await storedText(store)).text).toBe('hello world');
	});

	it('[PENDING1] an update held back is never applied later by the update it waited for, nor relayed unstored', async () => {
		const store = new MemoryStorage();
		const hub = new MemoryHub();
		const one = track(await startRelay({ storage: store, bus: hub.connect() }));
		const two = track(await startRelay({ storage: store, bus: hub.connect() }));
		const { u1, u2 } = dependentPair();
		const reader = provider(two.url, ROOM, 'rita', 'viewer');
		cleanups.push(() => reader.destroy());
		await synced(reader);
		const early = await raw(two, 'xavier');
		await early.next(MessageType.sync);
		early.send(updateFrame(u2));
		await waitFor(() => two.relay.stats().updatesHeldBack === 1, 'held back');
		// U1 arrives on the other process, is stored there and reaches this one over the bus.
		const y = await raw(one, 'yann', true);
		y.send(syncStep1Frame(new Uint8Array([0])));
		await y.next(MessageType.saved);
		y.send(updateFrame(u1));
		await y.next(MessageType.saved);
		await waitFor(() => scratchText(reader.doc).toJSON().startsWith('hello'), 'U1 relayed');
		const { text } = await storedText(store);
		expect(text).toBe('hello');
		expect(scratchText(reader.doc).toJSON()).toBe(text);
	});

	it('[PENDING2] a bus update whose dependency was lost is not held: the room re-syncs from storage', async () => {
		const store = new MemoryStorage();
		const hub = new MemoryHub();
		const one = track(await startRelay({ storage: store, bus: hub.connect() }));
		const two = track(await startRelay({ storage: store, bus: hub.connect() }));
		const reader = provider(two.url, ROOM, 'rita', 'viewer');
		cleanups.push(() => reader.destroy());
		await synced(reader);
		const { u1, u2 } = dependentPair();
		// U1 reaches storage without reaching process two's bus (a lost message);
		// U2 then arrives on the bus.
		await store.appendUpdates([{ room: ROOM as RoomName, update: u1, author: null, at: 0 }]);
		const handle = await one.relay.open({ workspace: WS, doc: 'params' });
		cleanups.push(() => handle.release());
		await one.relay.write({ workspace: WS, doc: 'params' }, null, (doc) => {
			Y.applyUpdate(doc, u1);
			Y.applyUpdate(doc, u2);
		});
		await textBecomes(reader.doc, 'hello world');
		expect(two.relay.stats().resyncs).toBeGreaterThanOrEqual(1);
	});
});
