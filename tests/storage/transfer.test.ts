import { afterEach, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../server/protocol/ids.ts';
import type { EnsembleStorage } from '../../server/storage/common.ts';
import { MemoryStorage } from '../../server/storage/memory.ts';
import {
	exportWorkspace,
	importWorkspace,
	type WorkspaceExport
} from '../../server/storage/transfer.ts';
import { ownedWorkspace, record, room, T0, user } from './fixtures.ts';
import { sqliteSetup } from './helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
	for (const c of cleanups.splice(0)) await c();
});

async function sqliteStore(): Promise<EnsembleStorage> {
	const s = await sqliteSetup();
	cleanups.push(s.cleanup);
	return s.storage;
}

/** A workspace with three members, a compacted document, a run log and a dataset. */
async function populated(storage: EnsembleStorage) {
	const { owner, workspace } = await ownedWorkspace(storage, 'Exported');
	const editor = user({ email: 'Editor@Example.com' });
	const ghost = user();
	await storage.createUser(editor);
	await storage.createUser(ghost);
	await storage.putMember({ workspace, userId: editor.id, role: 'editor', joinedAt: T0 + 1 });
	await storage.putMember({ workspace, userId: ghost.id, role: 'viewer', joinedAt: T0 + 2 });
	const params = room(workspace, 'params');
	for (let i = 1; i <= 4; i++) {
		await storage.appendUpdates([record(params, i, i % 2 ? owner.id : editor.id, 20 + i)]);
	}
	await storage.compact(params, new Uint8Array([1, 2, 3]), 2);
	await storage.appendUpdates([record(room(workspace, 'run/abc'), 9, null)]);
	await storage.putDataset(
		{ id: 'd1', workspace, name: 'x.csv', createdBy: owner.id, createdAt: T0, bytes: 3 },
		new Uint8Array([0, 255, 7])
	);
	return { owner, editor, ghost, workspace, params };
}

describe('workspace export and import', () => {
	it('[XFER1] a workspace exported from SQLite imports into another store with documents, history, members and datasets', async () => {
		const source = await sqliteStore();
		const { owner, editor, ghost, workspace, params } = await populated(source);
		const data = JSON.parse(
			JSON.stringify(await exportWorkspace(source, workspace))
		) as WorkspaceExport;

		const target = new MemoryStorage();
		cleanups.push(() => target.close());
		await target.createUser(owner);
		// The same person with another id here: matched by e-mail (any case).
		const editorHere = user({ email: 'editor@example.com' });
		await target.createUser(editorHere);

		const report = await importWorkspace(target, data);
		expect(report).toEqual({
			workspace,
			documents: 2,
			updates: 3,
			datasets: 1,
			members: 2,
			skippedMembers: [ghost.email]
		});
		expect(await target.getWorkspace(workspace)).toEqual(await source.getWorkspace(workspace));
		expect((await target.listMembers(workspace)).map((m) => [m.userId, m.role])).toEqual([
			[owner.id, 'owner'],
			[editorHere.id, 'editor']
		]);
		expect(await target.loadDoc(params)).toEqual(await source.loadDoc(params));
		expect(await target.history(params)).toEqual(await source.history(params));
		expect((await target.history(params)).map((h) => h.author)).toEqual([
			editor.id,
			owner.id,
			editor.id,
			owner.id
		]);
		expect(await target.listRooms(workspace)).toEqual(await source.listRooms(workspace));
		expect((await target.getDataset(workspace, 'd1'))?.content).toEqual(
			new Uint8Array([0, 255, 7])
		);
		// The log goes on where it stopped.
		expect(await target.appendUpdates([record(params, 5)])).toEqual([5]);
	});

	it('[XFER2] an import under a new id copies the workspace; an existing id or a missing owner is refused', async () => {
		const store = await sqliteStore();
		const { workspace, params } = await populated(store);
		const data = await exportWorkspace(store, workspace);
		await expect(importWorkspace(store, data)).rejects.toThrow(/already exists/);

		const copy = 'copy1' as WorkspaceId;
		await importWorkspace(store, data, { asWorkspace: copy });
		expect(await store.loadDoc(room(copy, 'params'))).toMatchObject({
			snapshot: new Uint8Array([1, 2, 3]),
			lastSeq: 4
		});
		expect((await store.loadDoc(params)).lastSeq).toBe(4);
		expect(await exportWorkspace(store, copy)).toMatchObject({ workspace: { id: copy } });
		await expect(exportWorkspace(store, 'nope' as WorkspaceId)).rejects.toThrow(/no workspace/);

		const empty = new MemoryStorage();
		cleanups.push(() => empty.close());
		await expect(importWorkspace(empty, data)).rejects.toThrow(/no owner/);
		expect(await empty.listWorkspaces()).toEqual([]);
		await expect(importWorkspace(empty, { ...data, format: 'other' })).rejects.toThrow(
			/not an Ensemble/
		);
	});

	it('[XFER3] a hand-edited export with a bad id or document name is refused, naming the entry, and nothing is stored', async () => {
		const source = new MemoryStorage();
		cleanups.push(() => source.close());
		const { owner, workspace } = await populated(source);
		const good = JSON.parse(
			JSON.stringify(await exportWorkspace(source, workspace))
		) as WorkspaceExport;
		const edits: Array<[string, (d: WorkspaceExport) => unknown, RegExp]> = [
			[
				'a document name that climbs out of the workspace',
				(d) => ({ ...d, documents: [{ ...d.documents[0], doc: 'run/../../params' }] }),
				/documents\[0\]\.doc "run\/\.\.\/\.\.\/params"/
			],
			[
				'a document that is none of the schema',
				(d) => ({ ...d, documents: [...d.documents, { ...d.documents[0], doc: 'secrets' }] }),
				/documents\[2\]\.doc "secrets" is not a document name/
			],
			[
				'a data set id with a path',
				(d) => ({ ...d, datasets: [{ ...d.datasets[0], id: '../../x' }] }),
				/datasets\[0\]\.id "\.\.\/\.\.\/x"/
			],
			[
				'a data set name with a path',
				(d) => ({ ...d, datasets: [{ ...d.datasets[0], name: '../etc/passwd' }] }),
				/datasets\[0\]\.name/
			],
			[
				'a workspace id with a slash',
				(d) => ({ ...d, workspace: { ...d.workspace, id: 'a/b' } }),
				/workspace\.id "a\/b"/
			],
			[
				'a member id that is a path',
				(d) => ({ ...d, members: [{ ...d.members[0], userId: '..' }] }),
				/members\[0\]\.userId "\.\."/
			],
			[
				'an update author that is not an id',
				(d) => ({
					...d,
					documents: d.documents.map((doc) => ({
						...doc,
						updates: doc.updates.map((u) => ({ ...u, author: 'x y' }))
					}))
				}),
				/documents\[0\]\.updates\[0\]\.author "x y"/
			],
			[
				'a role that does not exist',
				(d) => ({ ...d, members: [{ ...d.members[0], role: 'admin' }] }),
				/members\[0\]\.role/
			],
			[
				'the same data set twice',
				(d) => ({ ...d, datasets: [d.datasets[0], d.datasets[0]] }),
				/datasets\[1\]\.id "d1" appears twice/
			]
		];
		const target = new MemoryStorage();
		cleanups.push(() => target.close());
		await target.createUser(owner);
		for (const [what, edit, message] of edits) {
			const bad = edit(good);
			await expect(importWorkspace(target, bad), what).rejects.toThrow(message);
			await expect(
				importWorkspace(target, bad, { asWorkspace: 'fresh1' as WorkspaceId }),
				what
			).rejects.toThrow(/nothing was imported/);
			expect(await target.listWorkspaces(), what).toEqual([]);
		}
		// The unedited file still imports.
		expect((await importWorkspace(target, good)).workspace).toBe(workspace);
	});
});
