// Awareness at the relay: stamping, ownership of client IDs, merging (SPEC.md PRES*).

import { afterEach, describe, expect, it } from 'vitest';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { CloseCode } from '../../server/protocol/closeCodes.ts';
import { ALIVE_WITHIN_MS, MessageType } from '../../server/protocol/messages.ts';
import { encodeAwarenessEntries, parseAwarenessUpdate } from '../../server/relay/awareness.ts';
import * as Y from 'yjs';
import { SyncStep, awarenessFrame, updateFrame } from '../../server/relay/frames.ts';
import { WS, query, startRelay, testClients, synced, waitFor, type Harness } from './helpers.ts';
import { scratchText } from '../helpers/schemaRoots.ts';

const ROOM = `${WS}/code`;
let harness: Harness | null = null;
const clients = testClients(() => harness!.url);
const { open, raw } = clients;

afterEach(async () => {
	clients.closeAll();
	await harness?.close();
	harness = null;
});

function presence(
	clientID: number,
	clock: number,
	state: Record<string, unknown> | null
): Uint8Array {
	return awarenessFrame(encodeAwarenessEntries([{ clientID, clock, state }]));
}

function alive(withinMs: number): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, MessageType.alive);
	encoding.writeVarUint(e, withinMs);
	return encoding.toUint8Array(e);
}

function awarenessOf(frame: Uint8Array): ReturnType<typeof parseAwarenessUpdate> {
	const d = decoding.createDecoder(frame);
	decoding.readVarUint(d);
	return parseAwarenessUpdate(decoding.readVarUint8Array(d));
}

describe('presence', () => {
	it("[PRES1] a state claiming another user's identity comes out stamped with the sender's real one", async () => {
		harness = await startRelay();
		const alice = open(ROOM, 'alice', 'owner');
		await synced(alice);
		const mallory = raw(ROOM, query('mallory', 'viewer'));
		await mallory.opened();
		mallory.send(
			presence(4242, 1, {
				user: { id: 'alice', name: 'Alice', role: 'owner', color: '#000' },
				cursor: 3
			})
		);
		await waitFor(() => alice.awareness.getStates().has(4242), 'stamped state');
		const state = alice.awareness.getStates().get(4242)!;
		expect(state.user).toEqual({
			id: 'mallory',
			name: 'mallory',
			role: 'viewer',
			color: expect.any(String) as string
		});
		expect(state.cursor).toBe(3);
	});

	it('[PRES2] entries for client IDs another connection introduced are dropped', async () => {
		harness = await startRelay();
		const alice = open(ROOM, 'alice', 'owner');
		await synced(alice);
		alice.awareness.setLocalStateField('cursor', 1);
		const aliceId = alice.awareness.clientID;
		const watcher = raw(ROOM, query('walt', 'viewer'));
		await watcher.opened();
		await waitFor(() => harness!.relay.presentUsers(WS).length === 1, 'alice present');
		const mallory = raw(ROOM, query('mallory', 'editor'));
		await mallory.opened();
		mallory.send(presence(aliceId, 1000, { cursor: 999 }));
		mallory.send(presence(aliceId, 1001, null));
		mallory.send(presence(5151, 1, { cursor: 5 }));
		// Mallory's own client arrives; the forged ones never do.
		let sawOwn = false;
		while (!sawOwn) {
			for (const entry of awarenessOf(await watcher.next(MessageType.awareness))) {
				expect(
					entry.clientID === aliceId && (entry.state === null || entry.state.cursor === 999)
				).toBe(false);
				if (entry.clientID === 5151) sawOwn = true;
			}
		}
		expect(alice.awareness.getStates().get(aliceId)?.cursor).toBe(1);
	});

	it("[PRES2] a tab echoing another tab's state (as stock clients do) does not take it over", async () => {
		harness = await startRelay();
		const watcher = raw(ROOM, query('walt', 'viewer'));
		const tab1 = raw(ROOM, query('alice', 'editor'));
		const tab2 = raw(ROOM, query('alice', 'editor'));
		await Promise.all([watcher.opened(), tab1.opened(), tab2.opened()]);
		tab1.send(presence(61, 3, { cursor: 1 }));
		tab2.send(presence(62, 1, { cursor: 2 }));
		await waitFor(() => harness!.relay.presentUsers(WS).length === 1, 'alice present');
		// tab2 sends tab1's state back at the clock the server relayed, then leaves.
		tab2.send(presence(61, 3, { cursor: 1 }));
		tab2.close();
		const removed = new Set<number>();
		while (!removed.has(62)) {
			for (const e of awarenessOf(await watcher.next(MessageType.awareness)))
				if (e.state === null) removed.add(e.clientID);
		}
		expect(removed.has(61)).toBe(false);
		// tab1 is still there: a change of its state still goes out.
		tab1.send(presence(61, 4, { cursor: 7 }));
		let cursor: unknown;
		while (cursor !== 7) {
			for (const e of awarenessOf(await watcher.next(MessageType.awareness)))
				if (e.clientID === 61) cursor = e.state?.cursor;
		}
	});

	it('[PRES2] a reconnect of the same user takes over its client ID before the old socket closes', async () => {
		harness = await startRelay();
		const watcher = raw(ROOM, query('walt', 'viewer'));
		const old = raw(ROOM, query('alice', 'editor'));
		await Promise.all([watcher.opened(), old.opened()]);
		old.send(presence(71, 5, { cursor: 1 }));
		await waitFor(() => harness!.relay.presentUsers(WS).length === 1, 'alice present');
		const fresh = raw(ROOM, query('alice', 'editor'));
		await fresh.opened();
		// Its first message: its own state, same clock (y-websocket re-sends it on open).
		fresh.send(presence(71, 5, { cursor: 1 }));
		// A query is answered after the state before it was handled (one socket, in order).
		fresh.send(new Uint8Array([MessageType.queryAwareness]));
		await fresh.next(MessageType.awareness);
		old.close();
		await waitFor(() => harness!.relay.stats().connections === 2, 'the old socket closed');
		// The state is still there, now owned by the new connection.
		expect(harness.relay.presentUsers(WS).map((u) => u.id)).toEqual(['alice']);
	});

	it("[PRES3] when a connection closes its clients' states are removed for everyone", async () => {
		harness = await startRelay();
		const alice = open(ROOM, 'alice', 'owner');
		await synced(alice);
		alice.awareness.setLocalStateField('cursor', 0);
		const bob = raw(ROOM, query('bob', 'editor'));
		await bob.opened();
		bob.send(presence(6161, 1, { cursor: 1 }));
		await waitFor(() => alice.awareness.getStates().has(6161), 'bob present');
		bob.close();
		await waitFor(() => !alice.awareness.getStates().has(6161), 'bob removed');
		expect(harness.relay.presentUsers(WS).map((u) => u.id)).toEqual(['alice']);
	});

	it('[PRES7] a client that promised signs of life and went silent is closed and its presence removed', async () => {
		harness = await startRelay();
		const alice = open(ROOM, 'alice', 'owner');
		await synced(alice);
		const bob = raw(ROOM, query('bob', 'editor'));
		await bob.opened();
		bob.send(alive(ALIVE_WITHIN_MS.min));
		bob.send(presence(7171, 1, { cursor: 1 }));
		await waitFor(() => alice.awareness.getStates().has(7171), 'bob present');
		const silentSince = Date.now();
		// Bob's network drops: no close frame, no more messages.
		expect(await bob.closed).toBe(CloseCode.goingAway);
		await waitFor(() => !alice.awareness.getStates().has(7171), 'bob removed');
		const gone = Date.now() - silentSince;
		console.log(`[PRES7] silent client removed after ${gone} ms`);
		expect(gone).toBeGreaterThanOrEqual(ALIVE_WITHIN_MS.min - 50);
		expect(gone).toBeLessThan(ALIVE_WITHIN_MS.min + 1500);
		// Alice's stock provider never promised anything and was silent as long: still open.
		expect(alice.wsconnected).toBe(true);
	});

	it('[PRES7] a client that keeps its promise stays connected', async () => {
		harness = await startRelay();
		const carol = raw(ROOM, query('carol', 'editor'));
		const dave = raw(ROOM, query('dave', 'editor'));
		await Promise.all([carol.opened(), dave.opened()]);
		carol.send(alive(ALIVE_WITHIN_MS.min));
		dave.send(alive(ALIVE_WITHIN_MS.min));
		// Carol keeps saying she is here; Dave goes silent. When Dave is closed, Carol,
		// connected as long, is still open.
		const keep = setInterval(() => carol.send(alive(ALIVE_WITHIN_MS.min)), 500);
		try {
			expect(await dave.closed).toBe(CloseCode.goingAway);
			expect(carol.socket.readyState).toBe(carol.socket.OPEN);
		} finally {
			clearInterval(keep);
		}
	});

	it('[PRES4] changes from many clients in one tick reach each recipient merged in few frames', async () => {
		harness = await startRelay({ limits: { awarenessTickMs: 50 } });
		const watcher = raw(ROOM, query('walt', 'viewer'));
		await watcher.opened();
		const senders = Array.from({ length: 20 }, (_, i) => raw(ROOM, query(`u${i}`, 'editor')));
		await Promise.all(senders.map((s) => s.opened()));
		senders.forEach((s, i) => s.send(presence(1000 + i, 1, { cursor: i })));
		const seen = new Set<number>();
		let frames = 0;
		while (seen.size < 20) {
			frames++;
			for (const e of awarenessOf(await watcher.next(MessageType.awareness))) seen.add(e.clientID);
		}
		expect(frames).toBeLessThanOrEqual(4);
	});

	it('[PRES4] a bare renewal (same state, new clock) waits for the renewal tick; changes do not', async () => {
		harness = await startRelay({ limits: { awarenessTickMs: 5, awarenessRenewalMs: 400 } });
		const watcher = raw(ROOM, query('walt', 'viewer'));
		const sender = raw(ROOM, query('sue', 'editor'));
		await Promise.all([watcher.opened(), sender.opened()]);
		sender.send(presence(31, 1, { cursor: 1 }));
		expect(awarenessOf(await watcher.next(MessageType.awareness))[0]?.clock).toBe(1);
		const renewedAt = Date.now();
		sender.send(presence(31, 2, { cursor: 1 }));
		const renewal = awarenessOf(await watcher.next(MessageType.awareness));
		expect(renewal[0]?.clock).toBe(2);
		expect(Date.now() - renewedAt).toBeGreaterThanOrEqual(300);
		sender.send(presence(31, 3, { cursor: 2 }));
		const changedAt = Date.now();
		expect(awarenessOf(await watcher.next(MessageType.awareness))[0]?.state?.cursor).toBe(2);
		expect(Date.now() - changedAt).toBeLessThan(300);
	});

	it('[PRES4] a cursor move sent with an edit reaches readers with the stored edit, not a tick later', async () => {
		// Both ticks would be a minute away: only the edit's relay can carry the presence.
		harness = await startRelay({
			limits: { awarenessTickMs: 60_000, awarenessRenewalMs: 60_000 }
		});
		const watcher = raw(ROOM, query('walt', 'viewer'));
		const writer = raw(ROOM, query('wendy', 'editor'));
		await Promise.all([watcher.opened(), writer.opened()]);
		const doc = new Y.Doc();
		scratchText(doc, 'code').insert(0, 'hello');
		writer.send(updateFrame(Y.encodeStateAsUpdate(doc)));
		writer.send(presence(51, 1, { cursor: 5 }));
		const moved = awarenessOf(await watcher.next(MessageType.awareness, 3000));
		expect(moved[0]?.state?.cursor).toBe(5);
		// The edit came first (same socket write, in order): the cursor points into text the reader has.
		const reader = new Y.Doc();
		for (const m of watcher.received) {
			const md = decoding.createDecoder(m);
			if (decoding.readVarUint(md) !== MessageType.sync) continue;
			if (decoding.readVarUint(md) !== SyncStep.update) continue;
			Y.applyUpdate(reader, decoding.readVarUint8Array(md));
		}
		expect(scratchText(reader, 'code').toJSON()).toBe('hello');
	});

	it('[PRES5] presentUsers merges over rooms with the current view', async () => {
		harness = await startRelay();
		const a = raw(`${WS}/code`, query('alice', 'editor'));
		const b = raw(`${WS}/params`, query('alice', 'editor'));
		const c = raw(`${WS}/params`, query('bob', 'viewer'));
		await Promise.all([a.opened(), b.opened(), c.opened()]);
		a.send(presence(1, 1, { current_view: 'code_editor' }));
		b.send(presence(2, 1, { current_view: 'nonsense' }));
		c.send(presence(3, 1, {}));
		await waitFor(() => harness!.relay.presentUsers(WS).length === 2, 'two people');
		const users = harness.relay.presentUsers(WS).sort((x, y) => x.id.localeCompare(y.id));
		expect(users[0]).toMatchObject({ id: 'alice', email: 'alice@example.test', role: 'editor' });
		expect(['code_editor', 'dashboard']).toContain(users[0]!.current_view);
		expect(users[1]).toMatchObject({ id: 'bob', current_view: 'dashboard', role: 'viewer' });
		expect(harness.relay.presentUsers('w2' as never)).toEqual([]);
	});
});
