// The document schema at the relay (server/SPEC.md SCHEMA1-3): updates that add
// a root type the document does not have are refused whole, on SQLite storage
// and through the real server with an editor's socket.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { CloseCode, describeClose, isFinalClose } from '../../server/protocol/closeCodes.ts';
import { MessageType } from '../../server/protocol/messages.ts';
import type { RoomName } from '../../server/protocol/docs.ts';
import { syncStep1Frame, updateFrame } from '../../server/relay/frames.ts';
import { SqliteStorage } from '../../server/storage/sqlite.ts';
import { WS, query, startRelay, synced, testClients, waitFor, type Harness } from './helpers.ts';
import { makeTeam, startTestServer, type TestServer } from '../helpers/server.ts';
import { connectPeer, docReaches, nextClose, synced as peerSynced } from '../helpers/yjs.ts';

let harness: Harness | null = null;
let dir = '';
let sqlite: SqliteStorage;
const clients = testClients(() => harness!.url);
const { open, raw } = clients;

beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'ensemble-schema-'));
	sqlite = new SqliteStorage({ path: join(dir, 'ensemble.db'), writer: 'inline' });
});

afterEach(async () => {
	clients.closeAll();
	await harness?.close();
	harness = null;
	await sqlite.close();
	rmSync(dir, { recursive: true, force: true });
});

/** An editor's raw socket that has finished its initial sync (acknowledgements on). */
async function editor(room: string, user = 'mallory') {
	const c = raw(room, query(user, 'editor', true));
	await c.opened();
	c.send(syncStep1Frame(new Uint8Array([0])));
	await c.next(MessageType.saved);
	return c;
}

/** One update from a fresh doc: `change` runs in one transaction. */
function update(change: (doc: Y.Doc) => void): Uint8Array {
	const doc = new Y.Doc();
	doc.transact(() => change(doc));
	return Y.encodeStateAsUpdate(doc);
}

async function storedRoots(room: string): Promise<string[]> {
	const loaded = await sqlite.loadDoc(room as RoomName);
	const doc = new Y.Doc();
	if (loaded.snapshot) Y.applyUpdate(doc, loaded.snapshot);
	for (const u of loaded.updates) Y.applyUpdate(doc, u.update);
	return [...doc.share.keys()].sort();
}

describe('document schema at the relay', () => {
	it('[SCHEMA1] an editor adding a `training` map to params is closed with 4423; nothing of that update is stored or relayed, and the room carries on', async () => {
		harness = await startRelay({ storage: sqlite });
		const room = `${WS}/params`;
		const watcher = open(room, 'walt', 'viewer');
		const writer = open(room, 'wendy', 'editor');
		await Promise.all([synced(watcher), synced(writer)]);
		const mallory = await editor(room);
		// A valid change and an extra root in one transaction: the whole update is refused.
		mallory.send(
			updateFrame(
				update((doc) => {
					doc.getMap('hyperparameters').set('epochs', 999);
					doc.getMap('training').set('status', 'running');
				})
			)
		);
		expect(await mallory.closed).toBe(CloseCode.notInSchema);
		// The room still works, and what it relays after shows nothing of mallory's update.
		writer.doc.getMap('hyperparameters').set('epochs', 7);
		await waitFor(
			() => watcher.doc.getMap('hyperparameters').get('epochs') === 7,
			'a later edit relayed'
		);
		expect([...watcher.doc.share.keys()]).toEqual(['hyperparameters']);
		expect(await storedRoots(room)).toEqual(['hyperparameters']);
		expect(isFinalClose(CloseCode.notInSchema)).toBe(true);
		expect(describeClose(CloseCode.notInSchema)).toMatch(/does not have/);
	});

	it('[SCHEMA1] code takes only `files` and `breakpoints`: content nested in them is accepted, a `runs` root or a Text named `t` is refused', async () => {
		harness = await startRelay({ storage: sqlite });
		const room = `${WS}/code`;
		const ok = await editor(room, 'alice');
		const nested = update((doc) => {
			const file = new Y.Text('print(1)\n');
			doc.getMap('files').set('train.py', file);
			doc.getMap('breakpoints').set('b1', { file: 'train.py', line: 1 });
		});
		ok.send(updateFrame(nested));
		await ok.next(MessageType.saved);
		expect(ok.socket.readyState).toBe(ok.socket.OPEN);
		for (const bad of [
			update((doc) => doc.getMap('runs').set('r1', { status: 'done' })),
			update((doc) => doc.getText('t').insert(0, 'hello'))
		]) {
			const c = await editor(room);
			c.send(updateFrame(bad));
			expect(await c.closed).toBe(CloseCode.notInSchema);
		}
		expect(await storedRoots(room)).toEqual(['breakpoints', 'files']);
	});

	it('[SCHEMA2] extra roots stored before SCHEMA1 still load and sync; edits that carry on inside them are kept', async () => {
		const room = `${WS}/params` as RoomName;
		const legacy = new Y.Doc();
		legacy.getMap('hyperparameters').set('epochs', 5);
		legacy.getText('notes').insert(0, 'old notes');
		await sqlite.appendUpdates([
			{ room, update: Y.encodeStateAsUpdate(legacy), author: null, at: Date.now() }
		]);
		harness = await startRelay({ storage: sqlite });
		const a = open(room, 'alice', 'editor');
		const b = open(room, 'bob', 'viewer');
		await Promise.all([synced(a), synced(b)]);
		expect(a.doc.getText('notes').toJSON()).toBe('old notes');
		// Appending carries an origin, not the root's name: the relay has nothing to refuse.
		a.doc.getText('notes').insert(9, ', still here');
		await waitFor(
			() => b.doc.getText('notes').toJSON() === 'old notes, still here',
			'a legacy root edited'
		);
		expect(await storedRoots(room)).toEqual(['hyperparameters', 'notes']);
	});
});

describe('document schema through the real server', () => {
	let server: TestServer | null = null;
	afterEach(async () => {
		await server?.close();
		server = null;
	});

	it('[SCHEMA3] a stock provider of an editor that adds a `training` map to params is closed with 4423; teammates and the stored document never get the map', async () => {
		server = await startTestServer();
		const team = await makeTeam(server);
		const editorUser = await team.add('Eve', 'editor');
		const owner = await connectPeer(server, team.owner, team.workspace, 'params');
		const eve = await connectPeer(server, editorUser.client, team.workspace, 'params');
		try {
			await Promise.all([peerSynced(owner), peerSynced(eve)]);
			const closed = nextClose(eve, 10_000);
			eve.doc.getMap('training').set('status', 'running');
			expect(await closed).toBe(CloseCode.notInSchema);
			owner.doc.getMap('hyperparameters').set('epochs', 3);
			const later = await connectPeer(server, team.owner, team.workspace, 'params');
			try {
				await docReaches(
					later.doc,
					(d) => d.getMap('hyperparameters').get('epochs') === 3,
					'the owner’s edit stored'
				);
				expect(later.doc.share.has('training')).toBe(false);
				expect(owner.doc.share.has('training')).toBe(false);
			} finally {
				later.destroy();
			}
		} finally {
			owner.destroy();
			eve.destroy();
		}
	});
});
