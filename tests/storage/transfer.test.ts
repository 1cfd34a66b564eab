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
		await expect(
			importWorkspace(empty, { ...data, format: 'other' } as unknown as WorkspaceExport)
		).rejects.toThrow(/not an Ensemble/);
	});
});
