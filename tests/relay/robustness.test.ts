// What happens when Yjs throws on an update that passed validation (SPEC.md RELAY8).
// The pinned fixture comes from the validator fuzz (seed 147): a mutated item whose
// origins contradict each other waits as pending (its client's earlier history is
// missing) and makes Yjs throw half-way when that history arrives from an
// innocent writer.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { syncStep1Frame, updateFrame } from '../../server/relay/frames.ts';
import {
	RawClient,
	WS,
	provider,
	query,
	startRelay,
	synced,
	waitFor,
	type Harness
} from './helpers.ts';

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

describe('robustness', () => {
	it('[RELAY8] when a validated update makes Yjs throw, the sender gets 1007, the room reloads from storage, and what is stored always loads', async () => {
		const store = new MemoryStorage();
		harness = await startRelay({ storage: store });
		const observer = provider(harness.url, ROOM, 'olga', 'editor');
		providers.push(observer);
		await synced(observer);
		let observerClosed = 0;
		observer.on('connection-close', (event) => {
			if (event?.code === 1011) observerClosed++;
		});

		const mallory = new RawClient(harness.url, ROOM, query('mallory', 'editor'));
		const bob = new RawClient(harness.url, ROOM, query('bob', 'editor'));
		raws.push(mallory, bob);
		await Promise.all([mallory.opened(), bob.opened()]);
		mallory.send(updateFrame(poison));
		mallory.send(syncStep1Frame(new Uint8Array([0])));
		await mallory.next(0);
		for (const u of prefix) bob.send(updateFrame(u));
		expect(await bob.closed).toBe(1007);
		expect(await mallory.closed).toBe(1011);
		await waitFor(() => observerClosed === 1, 'observer told to reconnect');

		// Everything stored applied cleanly: the log loads and encodes, and the
		// reloaded room serves exactly that to a new client.
		const loaded = await store.loadDoc(ROOM as never);
		const stored = new Y.Doc();
		for (const u of loaded.updates) Y.applyUpdate(stored, u.update);
		expect(() => Y.encodeStateAsUpdate(stored)).not.toThrow();
		expect(loaded.updates.length).toBeGreaterThan(0);
		const fresh = provider(harness.url, ROOM, 'carol', 'viewer');
		providers.push(fresh);
		await synced(fresh);
		expect(fresh.doc.getText('t').toJSON()).toBe(stored.getText('t').toJSON());
		expect(fresh.doc.getMap('m').toJSON()).toEqual(stored.getMap('m').toJSON());
		const handle = await harness.relay.open({ workspace: WS, doc: 'code' });
		expect(() => Y.encodeStateAsUpdate(handle.doc)).not.toThrow();
		handle.release();
	});
});
