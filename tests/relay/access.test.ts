// Read-only connections and role changes at the relay (SPEC.md ACCESS*).

import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { MessageType } from '../../server/protocol/messages.ts';
import type { UserId } from '../../server/protocol/ids.ts';
import { encodeAwarenessEntries } from '../../server/relay/awareness.ts';
import { awarenessFrame, syncStep1Frame, updateFrame } from '../../server/relay/frames.ts';
import { RecordingStore } from './recordingStore.ts';
import {
	WS,
	query,
	startRelay,
	testClients,
	synced,
	textBecomes,
	waitFor,
	type Harness
} from './helpers.ts';
import { scratchText } from '../helpers/schemaRoots.ts';

const ROOM = `${WS}/params`;
let harness: Harness | null = null;
const clients = testClients(() => harness!.url);
const { open, raw } = clients;

afterEach(async () => {
	clients.closeAll();
	await harness?.close();
	harness = null;
});

function textUpdate(text: string): { update: Uint8Array; doc: Y.Doc } {
	const doc = new Y.Doc();
	scratchText(doc).insert(0, text);
	return { update: Y.encodeStateAsUpdate(doc), doc };
}

function isPermissionDenied(frame: Uint8Array): boolean {
	const d = decoding.createDecoder(frame);
	return decoding.readVarUint(d) === MessageType.auth && decoding.readVarUint(d) === 0;
}

describe('access', () => {
	it("[ACCESS1] a viewer's write is neither applied, stored nor relayed; the viewer gets permission denied yet syncs and has presence", async () => {
		const store = new MemoryStorage();
		harness = await startRelay({ storage: store });
		const editor = open(ROOM, 'alice', 'editor');
		await synced(editor);
		const viewer = raw(ROOM, query('victor', 'viewer'));
		await viewer.opened();
		viewer.send(syncStep1Frame(new Uint8Array([0])));
		viewer.send(updateFrame(textUpdate('vandalism').update));
		expect(isPermissionDenied(await viewer.next(MessageType.auth))).toBe(true);
		viewer.send(
			awarenessFrame(
				encodeAwarenessEntries([{ clientID: 77, clock: 1, state: { current_view: 'code_editor' } }])
			)
		);
		// The viewer's presence reaches the editor, stamped as a viewer.
		await waitFor(() => editor.awareness.getStates().has(77), 'viewer presence');
		expect(editor.awareness.getStates().get(77)?.user).toMatchObject({
			id: 'victor',
			role: 'viewer'
		});
		// The viewer still receives the editor's changes.
		scratchText(editor.doc).insert(0, 'real');
		let seen = '';
		const viewerDoc = new Y.Doc();
		while (seen !== 'real') {
			const d = decoding.createDecoder(await viewer.next(MessageType.sync));
			decoding.readVarUint(d);
			if (decoding.readVarUint(d) === 0) continue;
			Y.applyUpdate(viewerDoc, decoding.readVarUint8Array(d));
			seen = scratchText(viewerDoc).toJSON();
		}
		// Nothing of the viewer's write is anywhere.
		expect(scratchText(editor.doc).toJSON()).toBe('real');
		const loaded = await store.loadDoc(ROOM as never);
		const stored = new Y.Doc();
		for (const u of loaded.updates) Y.applyUpdate(stored, u.update);
		expect(scratchText(stored).toJSON()).toBe('real');
		const handle = await harness.relay.open({ workspace: WS, doc: 'params' });
		expect(scratchText(handle.doc).toJSON()).toBe('real');
		handle.release();
	});

	it('[ACCESS1] only the server writes live: even an owner is read-only there', async () => {
		harness = await startRelay();
		const owner = raw(`${WS}/live`, query('olga', 'owner'));
		await owner.opened();
		owner.send(updateFrame(textUpdate('forged run').update));
		expect(isPermissionDenied(await owner.next(MessageType.auth))).toBe(true);
		expect(harness.relay.stats().updatesStored).toBe(0);
	});

	it('[ACCESS2] a demoted member is read-only at once, a promoted one can write, a removed one is closed with 4403 within 1 s', async () => {
		const store = new MemoryStorage();
		harness = await startRelay({ storage: store });
		const alice = open(ROOM, 'alice', 'owner');
		const bob = raw(ROOM, query('bob', 'editor'));
		await Promise.all([synced(alice), bob.opened()]);
		bob.send(syncStep1Frame(new Uint8Array([0])));
		await bob.next(MessageType.sync);

		await harness.relay.setMemberRole(WS, 'bob' as UserId, 'viewer');
		const first = textUpdate('after demotion');
		bob.send(updateFrame(first.update));
		expect(isPermissionDenied(await bob.next(MessageType.auth))).toBe(true);
		expect(harness.relay.stats().updatesStored).toBe(0);

		await harness.relay.setMemberRole(WS, 'bob' as UserId, 'editor');
		bob.send(updateFrame(textUpdate('promoted').update));
		await textBecomes(alice.doc, 'promoted');

		const started = Date.now();
		await harness.relay.setMemberRole(WS, 'bob' as UserId, null);
		expect(await bob.closed).toBe(4403);
		expect(Date.now() - started).toBeLessThan(1000);
	});

	it('[ACCESS2] a role change reaches a connection whose document is still loading', async () => {
		const store = new RecordingStore(new MemoryStorage());
		store.loadDelayMs = 300;
		harness = await startRelay({ storage: store });
		const bob = raw(ROOM, query('bob', 'editor'));
		await bob.opened();
		await waitFor(() => store.loads === 1, 'load started');
		const started = Date.now();
		await harness.relay.setMemberRole(WS, 'bob' as UserId, null);
		expect(await bob.closed).toBe(4403);
		expect(Date.now() - started).toBeLessThan(250);
	});

	it('[ACCESS3] deleting a workspace closes its connections with 4404 and leaves others alone', async () => {
		harness = await startRelay();
		const a = raw(ROOM, query('alice', 'owner'));
		const other = open('w2/params', 'zoe', 'editor');
		await Promise.all([a.opened(), synced(other)]);
		await a.next(MessageType.sync);
		await harness.relay.closeWorkspace(WS);
		expect(await a.closed).toBe(4404);
		expect(other.wsconnected).toBe(true);
	});
});
