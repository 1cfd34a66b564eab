// What happens when Yjs throws on an update (SPEC.md RELAY8), from a client or
// from the bus: the throw is injected by an observer on the room's doc. The
// pinned fixture comes from the validator fuzz (seed 147): a mutated item whose
// origins contradict each other used to wait as pending (its client's earlier
// history missing) and make Yjs throw half-way when that history arrived from an
// innocent writer; it is now held out of the doc (PENDING1).

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import type { WebsocketProvider } from 'y-websocket';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { MemoryHub } from '../../server/relay/bus.ts';
import { MessageType } from '../../server/protocol/messages.ts';
import { updateFrame } from '../../server/relay/frames.ts';
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

const ROOM = `${WS}/code`;
const fixture = JSON.parse(
	readFileSync(new URL('./fixtures/pending-poison.json', import.meta.url), 'utf8')
) as { poison: string; prefix: string[] };
const poison = new Uint8Array(Buffer.from(fixture.poison, 'base64'));
const prefix = fixture.prefix.map((u) => new Uint8Array(Buffer.from(u, 'base64')));

let harness: Harness | null = null;
const providers: WebsocketProvider[] = [];
const raws: RawClient[] = [];

afterEach(async () => {
	for (const p of providers.splice(0)) p.destroy();
	for (const c of raws.splice(0)) c.close();
	await harness?.close();
	harness = null;
});

function savedVector(frame: Uint8Array): Map<number, number> {
	const d = decoding.createDecoder(frame);
	decoding.readVarUint(d);
	return Y.decodeStateVector(decoding.readVarUint8Array(d));
}

describe('robustness', () => {
	it('[RELAY8] when applying a client update throws, the sender gets 1007, everyone else 1011 at once, and the room reloads from what is stored', async () => {
		const store = new MemoryStorage();
		harness = await startRelay({ storage: store });
		const key = { workspace: WS, doc: 'code' as const };
		const observer = provider(harness.url, ROOM, 'olga', 'editor');
		providers.push(observer);
		await synced(observer);
		await harness.relay.write(key, null, (doc) => scratchText(doc, 'code').insert(0, 'kept'));
		const closes: number[] = [];
		observer.on('connection-close', (event) => {
			if (event) closes.push(event.code);
		});
		const handle = await harness.relay.open(key);
		let armed = true;
		scratchText(handle.doc, 'code').observe(() => {
			if (armed) throw new Error('injected: the doc is damaged');
		});
		const mallory = new RawClient(harness.url, ROOM, query('mallory', 'editor'));
		raws.push(mallory);
		await mallory.opened();
		const bad = new Y.Doc();
		scratchText(bad, 'code').insert(0, 'never stored ');
		mallory.send(updateFrame(Y.encodeStateAsUpdate(bad)));
		expect(await mallory.closed).toBe(1007);
		await waitFor(() => closes.includes(1011), 'the other clients told to reconnect');
		armed = false;
		handle.release();

		const loaded = await store.loadDoc(ROOM as never);
		const stored = new Y.Doc();
		for (const u of loaded.updates) Y.applyUpdate(stored, u.update);
		expect(scratchText(stored, 'code').toJSON()).toBe('kept');
		const fresh = provider(harness.url, ROOM, 'carol', 'viewer');
		providers.push(fresh);
		await synced(fresh);
		expect(scratchText(fresh.doc, 'code').toJSON()).toBe('kept');
		await textBecomes(observer.doc, 'kept', 'code');
	});

	it('[RELAY8] a bus update that fails to apply is not dropped: the room closes its sockets (1011) and reloads from storage, which has it', async () => {
		const store = new MemoryStorage();
		const hub = new MemoryHub();
		const one = await startRelay({ storage: store, bus: hub.connect() });
		const two = await startRelay({ storage: store, bus: hub.connect() });
		harness = one;
		try {
			const key = { workspace: WS, doc: 'code' as const };
			const reader = provider(two.url, ROOM, 'rita', 'viewer');
			providers.push(reader);
			await synced(reader);
			const handle = await two.relay.open(key);
			let armed = true;
			scratchText(handle.doc, 'code').observe(() => {
				if (armed) throw new Error('injected: the doc is damaged');
			});
			const reconnected = new Promise<number>((resolve) =>
				reader.on('connection-close', (event) => event && resolve(event.code))
			);
			await one.relay.write(key, null, (doc) => scratchText(doc, 'code').insert(0, 'from one'));
			expect(await reconnected).toBe(1011);
			armed = false;
			handle.release();
			await textBecomes(reader.doc, 'from one', 'code');
		} finally {
			await two.close();
		}
	});

	it('[PENDING1] the pinned poison is held out of the doc: its sender is asked to re-sync, the innocent writer is not refused, and what is stored loads', async () => {
		const store = new MemoryStorage();
		harness = await startRelay({ storage: store });
		const mallory = new RawClient(harness.url, ROOM, query('mallory', 'editor'));
		const bob = new RawClient(harness.url, ROOM, query('bob', 'editor', true));
		raws.push(mallory, bob);
		await Promise.all([mallory.opened(), bob.opened()]);
		await mallory.next(MessageType.sync);
		mallory.send(updateFrame(poison));
		await mallory.next(MessageType.sync);
		for (const u of prefix) bob.send(updateFrame(u));
		const all = new Y.Doc();
		for (const u of prefix) Y.applyUpdate(all, u);
		const target = Y.decodeStateVector(Y.encodeStateVector(all));
		const covered = (saved: Map<number, number>): boolean =>
			[...target].every(([client, clock]) => (saved.get(client) ?? 0) >= clock);
		// Acknowledged up to the last of bob's updates: all of them are stored.
		while (!covered(savedVector(await bob.next(MessageType.saved))));
		expect(harness.relay.stats().updatesHeldBack).toBe(1);
		const loaded = await store.loadDoc(ROOM as never);
		const stored = new Y.Doc();
		for (const u of loaded.updates) Y.applyUpdate(stored, u.update);
		expect(() => Y.encodeStateAsUpdate(stored)).not.toThrow();
		expect(loaded.updates.length).toBeGreaterThan(0);
		const fresh = provider(harness.url, ROOM, 'carol', 'viewer');
		providers.push(fresh);
		await synced(fresh);
		expect(scratchText(fresh.doc, 'code').toJSON()).toBe(scratchText(stored, 'code').toJSON());
		expect(fresh.doc.getMap('breakpoints').toJSON()).toEqual(stored.getMap('breakpoints').toJSON());
	});
});
