// The storage contract: every implementation (memory, SQLite, PostgreSQL) runs
// these tests. Rule IDs are those of server/SPEC.md.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserId, WorkspaceId, RunId } from '../../server/protocol/ids.ts';
import type { EnsembleStorage } from '../../server/storage/common.ts';
import { StorageWriteError } from '../../server/storage/groupCommit.ts';
import { ownedWorkspace, record, room, T0, uid, user } from './fixtures.ts';

export interface StorageSetup {
	storage: EnsembleStorage;
	/** Closes whatever is still open and removes the files or schema. */
	cleanup: () => Promise<void>;
	/** Opens the same database again (absent for memory): restart tests use it. */
	reopen?: () => Promise<EnsembleStorage>;
}

export function runStorageContract(
	name: string,
	setup: () => Promise<StorageSetup>,
	options: { reopenable?: boolean } = {}
): void {
	describe(`storage contract: ${name}`, () => {
		let ctx: StorageSetup;
		let storage: EnsembleStorage;
		beforeEach(async () => {
			ctx = await setup();
			storage = ctx.storage;
		});
		afterEach(async () => {
			await ctx.cleanup();
		});

		it('[STORE1] an appended update loads back with its bytes, author and time', async () => {
			const { owner, workspace } = await ownedWorkspace(storage);
			const r = room(workspace);
			const rec = record(r, 1, owner.id, 300);
			const [seq] = await storage.appendUpdates([rec]);
			const doc = await storage.loadDoc(r);
			expect(doc.snapshot).toBeNull();
			expect(doc.lastSeq).toBe(seq);
			expect(doc.updates).toHaveLength(1);
			expect(doc.updates[0]).toEqual({ ...rec, seq });
			expect(doc.updates[0]!.update).toBeInstanceOf(Uint8Array);
			expect(await storage.loadDoc(room(workspace, 'code'))).toEqual({
				snapshot: null,
				updates: [],
				lastSeq: 0
			});
		});

		it('[STORE2] seqs strictly increase per room, each room with its own', async () => {
			const w = uid('w') as WorkspaceId;
			const a = room(w, 'params');
			const b = room(w, 'code');
			const first = await storage.appendUpdates([record(a, 1), record(b, 2), record(a, 3)]);
			const second = await storage.appendUpdates([record(a, 4)]);
			expect(first).toEqual([1, 1, 2]);
			expect(second).toEqual([3]);
			const doc = await storage.loadDoc(a);
			expect(doc.updates.map((u) => u.seq)).toEqual([1, 2, 3]);
			expect(doc.updates.map((u) => u.at)).toEqual([T0 + 1, T0 + 3, T0 + 4]);
			expect((await storage.loadDoc(b)).lastSeq).toBe(1);
			expect(await storage.appendUpdates([])).toEqual([]);
		});

		it('[STORE3] appends made in the same tick are committed in one transaction', async () => {
			const w = uid('w') as WorkspaceId;
			const before = storage.commitCount;
			const calls = Array.from({ length: 100 }, (_, i) =>
				storage.appendUpdates([record(room(w, i % 2 ? 'code' : 'params'), i)])
			);
			const seqs = await Promise.all(calls);
			expect(storage.commitCount - before).toBe(1);
			// Each caller gets its own seq, in call order per room.
			expect(seqs.filter((_, i) => i % 2 === 0).flat()).toEqual(
				Array.from({ length: 50 }, (_, i) => i + 1)
			);
			expect(seqs.filter((_, i) => i % 2 === 1).flat()).toEqual(
				Array.from({ length: 50 }, (_, i) => i + 1)
			);
			expect((await storage.loadDoc(room(w, 'code'))).updates).toHaveLength(50);
		});

		it('[STORE3] appends made while a commit is in flight join the next transaction', async () => {
			const w = uid('w') as WorkspaceId;
			const before = storage.commitCount;
			const first = Array.from({ length: 10 }, (_, i) =>
				storage.appendUpdates([record(room(w), i)])
			);
			// After the first batch has been taken, before it resolves.
			const second = await new Promise<Array<Promise<number[]>>>((resolve) =>
				setImmediate(() =>
					resolve(
						Array.from({ length: 10 }, (_, i) => storage.appendUpdates([record(room(w), 10 + i)]))
					)
				)
			);
			const seqs = (await Promise.all([...first, ...second])).flat();
			expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
			expect(storage.commitCount - before).toBe(2);
		});

		it('[STORE4] a failed commit rejects every caller of its batch and stores nothing', async () => {
			const w = uid('w') as WorkspaceId;
			const r = room(w);
			await storage.appendUpdates([record(r, 1)]);
			const failedBefore = storage.failedCommits;
			storage.failNextCommit(new Error('disk full (injected)'));
			const calls = Array.from({ length: 5 }, (_, i) => storage.appendUpdates([record(r, 10 + i)]));
			const results = await Promise.allSettled(calls);
			for (const result of results) {
				expect(result.status).toBe('rejected');
				if (result.status === 'rejected') {
					expect(result.reason).toBeInstanceOf(StorageWriteError);
					expect(String(result.reason)).toContain('disk full (injected)');
				}
			}
			expect(storage.failedCommits - failedBefore).toBe(1);
			const doc = await storage.loadDoc(r);
			expect(doc.updates.map((u) => u.seq)).toEqual([1]);
			expect(doc.lastSeq).toBe(1);
			// The failure rolled back the counter too: the next seq follows without a gap.
			expect(await storage.appendUpdates([record(r, 20)])).toEqual([2]);
		});

		it('[STORE5] compaction folds the log into a snapshot and keeps who wrote what and when', async () => {
			const { owner, workspace } = await ownedWorkspace(storage);
			const r = room(workspace);
			const other = user();
			await storage.createUser(other);
			for (let i = 1; i <= 5; i++) {
				await storage.appendUpdates([record(r, i, i % 2 ? owner.id : other.id, 10 * i)]);
			}
			const snapshot = new Uint8Array([9, 9, 9]);
			await storage.compact(r, snapshot, 3);
			const doc = await storage.loadDoc(r);
			expect(doc.snapshot).toEqual(snapshot);
			expect(doc.updates.map((u) => u.seq)).toEqual([4, 5]);
			expect(doc.lastSeq).toBe(5);
			expect(await storage.history(r)).toEqual(
				[5, 4, 3, 2, 1].map((seq) => ({
					seq,
					author: seq % 2 ? owner.id : other.id,
					at: T0 + seq,
					bytes: 10 * seq
				}))
			);
			// Seqs go on after the snapshot; compacting everything leaves no updates.
			expect(await storage.appendUpdates([record(r, 6)])).toEqual([6]);
			await storage.compact(r, new Uint8Array([7]), 6);
			expect(await storage.loadDoc(r)).toEqual({
				snapshot: new Uint8Array([7]),
				updates: [],
				lastSeq: 6
			});
			expect(await storage.history(r, { limit: 100 })).toHaveLength(6);
		});

		it('[STORE5] an older compaction does not replace a newer one; one beyond the log is refused', async () => {
			const r = room(uid('w') as WorkspaceId);
			await storage.appendUpdates([record(r, 1), record(r, 2), record(r, 3)]);
			await storage.compact(r, new Uint8Array([3]), 3);
			await storage.compact(r, new Uint8Array([1]), 1);
			expect((await storage.loadDoc(r)).snapshot).toEqual(new Uint8Array([3]));
			await expect(storage.compact(r, new Uint8Array([4]), 4)).rejects.toThrow(/outside/);
			await expect(
				storage.compact(room(uid('w') as WorkspaceId), new Uint8Array([1]), 1)
			).rejects.toThrow(/outside/);
		});

		it('[STORE5] loads during concurrent appends and compactions always see one consistent state', async () => {
			const r = room(uid('w') as WorkspaceId);
			await storage.appendUpdates([record(r, 0)]);
			const problems: string[] = [];
			const check = async () => {
				const doc = await storage.loadDoc(r);
				const seqs = doc.updates.map((u) => u.seq);
				const last = seqs.length ? seqs[seqs.length - 1]! : null;
				const first = seqs[0];
				// Without gaps, ending at lastSeq, starting right after the snapshot.
				if (last !== null && last !== doc.lastSeq) problems.push(`last ${last} != ${doc.lastSeq}`);
				if (seqs.some((s, i) => i > 0 && s !== seqs[i - 1]! + 1))
					problems.push(`gap in ${seqs.join(',')}`);
				if (doc.snapshot === null && first !== undefined && first !== 1) {
					problems.push(`no snapshot but the log starts at ${first}`);
				}
				if (doc.snapshot !== null && first !== undefined) {
					const snapshotSeq = doc.snapshot[0]!;
					if (first !== snapshotSeq + 1)
						problems.push(`snapshot ${snapshotSeq}, log from ${first}`);
				}
				return doc.lastSeq;
			};
			const work: Array<Promise<unknown>> = [];
			for (let round = 1; round <= 30; round++) {
				work.push(storage.appendUpdates([record(r, round * 2), record(r, round * 2 + 1)]));
				work.push(check());
				if (round % 3 === 0) {
					// The snapshot's first byte says which seq it covers.
					const upTo = await check();
					work.push(storage.compact(r, new Uint8Array([upTo]), upTo));
				}
				await new Promise((resolve) => setImmediate(resolve));
			}
			await Promise.all(work);
			await check();
			expect(problems).toEqual([]);
			expect((await storage.loadDoc(r)).lastSeq).toBe(61);
			expect(await storage.history(r, { limit: 1000 })).toHaveLength(61);
		});

		it('[STORE6] history is newest first, with limit and beforeSeq', async () => {
			const r = room(uid('w') as WorkspaceId);
			await storage.appendUpdates(Array.from({ length: 10 }, (_, i) => record(r, i + 1)));
			expect((await storage.history(r, { limit: 3 })).map((h) => h.seq)).toEqual([10, 9, 8]);
			expect((await storage.history(r, { limit: 3, beforeSeq: 8 })).map((h) => h.seq)).toEqual([
				7, 6, 5
			]);
			expect((await storage.history(r, { beforeSeq: 3 })).map((h) => h.seq)).toEqual([2, 1]);
			expect(await storage.history(room(uid('w') as WorkspaceId))).toEqual([]);
			await expect(storage.history(r, { limit: 0 })).rejects.toThrow(RangeError);
		});

		it('[STORE7] listRooms lists the documents of one workspace', async () => {
			const w = uid('w') as WorkspaceId;
			const other = uid('w') as WorkspaceId;
			await storage.appendUpdates([
				record(room(w, 'params'), 1),
				record(room(w, 'run/r1'), 2),
				record(room(other, 'code'), 3)
			]);
			expect(await storage.listRooms(w)).toEqual([room(w, 'params'), room(w, 'run/r1')]);
		});

		it('[STORE8] close() commits appends still pending, then refuses more', async () => {
			const r = room(uid('w') as WorkspaceId);
			const pending = storage.appendUpdates([record(r, 1)]);
			await storage.close();
			expect(await pending).toEqual([1]);
			expect(await storage.healthy()).toBe(false);
			await expect(storage.appendUpdates([record(r, 2)])).rejects.toThrow(/closed/);
			await expect(storage.loadDoc(r)).rejects.toThrow(/closed/);
		});

		it('[STORE9] healthy() is true while the store is open', async () => {
			expect(await storage.healthy()).toBe(true);
		});

		it('[ACCT1] e-mail addresses are unique and looked up case-insensitively', async () => {
			const u = user({ email: 'Ada.Lovelace@Example.com' });
			await storage.createUser(u);
			expect(await storage.getUserByEmail('ada.lovelace@example.COM')).toEqual(u);
			expect(await storage.getUserById(u.id)).toEqual(u);
			await expect(
				storage.createUser(user({ email: 'ADA.LOVELACE@example.com' }))
			).rejects.toThrow();
			expect(await storage.listUsers()).toEqual([u]);
			expect(await storage.getUserByEmail('nobody@example.com')).toBeNull();
			await storage.setPassword(u.id, 'scrypt$new');
			expect((await storage.getUserById(u.id))?.passwordHash).toBe('scrypt$new');
		});

		it('[ACCT2] sessions are created, found, and deleted one by one or per user', async () => {
			const a = user();
			const b = user();
			await storage.createUser(a);
			await storage.createUser(b);
			await storage.createSession({ tokenHash: 'h1', userId: a.id, expiresAt: T0 + 1000 });
			await storage.createSession({ tokenHash: 'h2', userId: a.id, expiresAt: T0 + 1000 });
			await storage.createSession({ tokenHash: 'h3', userId: b.id, expiresAt: T0 + 2000 });
			expect(await storage.getSession('h1')).toEqual({
				tokenHash: 'h1',
				userId: a.id,
				expiresAt: T0 + 1000
			});
			await storage.deleteSession('h1');
			expect(await storage.getSession('h1')).toBeNull();
			await storage.deleteSessionsOf(a.id);
			expect(await storage.getSession('h2')).toBeNull();
			expect(await storage.getSession('h3')).not.toBeNull();
			await expect(
				storage.createSession({ tokenHash: 'h4', userId: 'nobody' as UserId, expiresAt: T0 })
			).rejects.toThrow();
		});

		it('[SPACE1] the creator of a workspace is its owner; members are added, changed and removed', async () => {
			const { owner, workspace } = await ownedWorkspace(storage, 'Vision');
			expect(await storage.getWorkspace(workspace)).toEqual({
				id: workspace,
				name: 'Vision',
				createdAt: T0
			});
			expect(await storage.getMember(workspace, owner.id)).toEqual({
				workspace,
				userId: owner.id,
				role: 'owner',
				joinedAt: T0
			});
			const bob = user();
			await storage.createUser(bob);
			await storage.putMember({ workspace, userId: bob.id, role: 'viewer', joinedAt: T0 + 5 });
			await storage.putMember({ workspace, userId: bob.id, role: 'editor', joinedAt: T0 + 9 });
			expect(await storage.getMember(workspace, bob.id)).toEqual({
				workspace,
				userId: bob.id,
				role: 'editor',
				joinedAt: T0 + 5
			});
			expect((await storage.listMembers(workspace)).map((m) => m.userId)).toEqual([
				owner.id,
				bob.id
			]);
			expect(await storage.listWorkspacesOf(bob.id)).toEqual([
				{ id: workspace, name: 'Vision', createdAt: T0, role: 'editor' }
			]);
			await storage.renameWorkspace(workspace, 'Vision 2');
			expect((await storage.listWorkspaces()).map((w) => w.name)).toEqual(['Vision 2']);
			await storage.removeMember(workspace, bob.id);
			expect(await storage.getMember(workspace, bob.id)).toBeNull();
			expect(await storage.listWorkspacesOf(bob.id)).toEqual([]);
			await expect(
				storage.putMember({
					workspace: 'missing' as WorkspaceId,
					userId: bob.id,
					role: 'viewer',
					joinedAt: T0
				})
			).rejects.toThrow();
			await expect(
				storage.createWorkspace({ id: workspace, name: 'again', createdAt: T0 }, bob.id)
			).rejects.toThrow();
		});

		it('[SPACE2] an invite is used once, even by many concurrent callers', async () => {
			const { owner, workspace } = await ownedWorkspace(storage);
			const invite = {
				tokenHash: 'inv1',
				workspace,
				email: 'x@example.com',
				role: 'editor' as const,
				createdBy: owner.id,
				expiresAt: T0 + 7 * 86_400_000,
				usedAt: null
			};
			await storage.createInvite(invite);
			expect(await storage.getInvite('inv1')).toEqual(invite);
			const results = await Promise.all(
				Array.from({ length: 20 }, (_, i) => storage.useInvite('inv1', T0 + 100 + i))
			);
			expect(results.filter(Boolean)).toHaveLength(1);
			const used = await storage.getInvite('inv1');
			expect(used?.usedAt).toBe(T0 + 100 + results.indexOf(true));
			expect(await storage.useInvite('inv1', T0 + 500)).toBe(false);
			expect(await storage.useInvite('unknown', T0)).toBe(false);
		});

		it('[SPACE3] API keys are found by hash, listed, and revoked once', async () => {
			const { owner, workspace } = await ownedWorkspace(storage);
			const key = {
				id: 'k1',
				workspace,
				name: 'trainer',
				keyHash: 'kh1',
				createdBy: owner.id,
				createdAt: T0,
				revokedAt: null
			};
			await storage.createApiKey(key);
			expect(await storage.getApiKeyByHash('kh1')).toEqual(key);
			expect(await storage.listApiKeys(workspace)).toEqual([key]);
			expect(await storage.revokeApiKey('other' as WorkspaceId, 'k1', T0 + 1)).toBe(false);
			expect(await storage.revokeApiKey(workspace, 'k1', T0 + 1)).toBe(true);
			expect(await storage.revokeApiKey(workspace, 'k1', T0 + 2)).toBe(false);
			expect((await storage.getApiKeyByHash('kh1'))?.revokedAt).toBe(T0 + 1);
			await expect(storage.createApiKey({ ...key, id: 'k2' })).rejects.toThrow();
		});

		it('[SPACE4] datasets keep their content in the store', async () => {
			const { owner, workspace } = await ownedWorkspace(storage);
			const content = new Uint8Array(70_000);
			for (let i = 0; i < content.length; i++) content[i] = (i * 7) & 255;
			const dataset = {
				id: 'd1',
				workspace,
				name: 'iris.csv',
				createdBy: owner.id,
				createdAt: T0,
				bytes: content.byteLength
			};
			await storage.putDataset(dataset, content);
			expect(await storage.listDatasets(workspace)).toEqual([dataset]);
			const got = await storage.getDataset(workspace, 'd1');
			expect(got?.dataset).toEqual(dataset);
			expect(got?.content).toEqual(content);
			expect(await storage.getDataset('other' as WorkspaceId, 'd1')).toBeNull();
			// Put again replaces.
			await storage.putDataset({ ...dataset, name: 'iris2.csv' }, new Uint8Array([1, 2]));
			expect((await storage.getDataset(workspace, 'd1'))?.dataset).toMatchObject({
				name: 'iris2.csv',
				bytes: 2
			});
			expect(await storage.deleteDataset(workspace, 'd1')).toBe(true);
			expect(await storage.deleteDataset(workspace, 'd1')).toBe(false);
			expect(await storage.listDatasets(workspace)).toEqual([]);
		});

		it('[RUN1] runs are listed while active, and no longer once ended', async () => {
			const w = uid('w') as WorkspaceId;
			await storage.markRunActive(w, 'r1' as RunId);
			await storage.markRunActive(w, 'r1' as RunId);
			await storage.markRunActive(w, 'r2' as RunId);
			await storage.markRunEnded(w, 'r1' as RunId);
			expect(await storage.listActiveRuns()).toEqual([{ workspace: w, run: 'r2', owner: '' }]);
		});

		it('[RUN2] each active run names the process that owns it, and can be listed by owner', async () => {
			const w = uid('w') as WorkspaceId;
			await storage.markRunActive(w, 'r1' as RunId, 'host-a:8001');
			await storage.markRunActive(w, 'r2' as RunId, 'host-b:8002');
			expect(await storage.listActiveRuns('host-b:8002')).toEqual([
				{ workspace: w, run: 'r2', owner: 'host-b:8002' }
			]);
			expect((await storage.listActiveRuns()).map((r) => r.run)).toEqual(['r1', 'r2']);
		});

		it('[SPACE5] deleting a workspace deletes its members, invites, keys, datasets, runs and documents', async () => {
			const { owner, workspace } = await ownedWorkspace(storage);
			const kept = await ownedWorkspace(storage, 'Kept');
			await storage.createInvite({
				tokenHash: 'i-del',
				workspace,
				email: 'a@example.com',
				role: 'viewer',
				createdBy: owner.id,
				expiresAt: T0 + 1,
				usedAt: null
			});
			await storage.createApiKey({
				id: 'k-del',
				workspace,
				name: 'k',
				keyHash: 'kh-del',
				createdBy: owner.id,
				createdAt: T0,
				revokedAt: null
			});
			await storage.putDataset(
				{ id: 'd', workspace, name: 'd', createdBy: null, createdAt: T0, bytes: 1 },
				new Uint8Array([1])
			);
			await storage.markRunActive(workspace, 'r' as RunId);
			const r = room(workspace);
			await storage.appendUpdates([record(r, 1), record(room(workspace, 'code'), 2)]);
			await storage.compact(r, new Uint8Array([1]), 1);
			await storage.appendUpdates([record(room(kept.workspace), 3)]);

			// An append still pending when the delete is asked for goes with the workspace.
			const pending = storage.appendUpdates([record(r, 4)]);
			await storage.deleteWorkspace(workspace);
			await pending;

			expect(await storage.getWorkspace(workspace)).toBeNull();
			expect(await storage.listMembers(workspace)).toEqual([]);
			expect(await storage.getInvite('i-del')).toBeNull();
			expect(await storage.getApiKeyByHash('kh-del')).toBeNull();
			expect(await storage.listDatasets(workspace)).toEqual([]);
			expect(await storage.listActiveRuns()).toEqual([]);
			expect(await storage.listRooms(workspace)).toEqual([]);
			expect(await storage.loadDoc(r)).toEqual({ snapshot: null, updates: [], lastSeq: 0 });
			expect(await storage.history(r)).toEqual([]);
			expect(await storage.listWorkspacesOf(owner.id)).toEqual([]);
			// The user and the other workspace stay.
			expect(await storage.getUserById(owner.id)).not.toBeNull();
			expect((await storage.loadDoc(room(kept.workspace))).updates).toHaveLength(1);
		});

		it('[STORE10] a document restored from a dump keeps its seqs, snapshot and history', async () => {
			const r = room(uid('w') as WorkspaceId);
			await storage.appendUpdates([record(r, 1), record(r, 2), record(r, 3)]);
			await storage.compact(r, new Uint8Array([5]), 2);
			const dump = await storage.dumpDocument(r);
			expect(dump.snapshotSeq).toBe(2);
			expect(dump.history.map((h) => h.seq)).toEqual([1, 2, 3]);
			const copy = room(uid('w') as WorkspaceId);
			await storage.restoreDocument(copy, dump);
			const loaded = await storage.loadDoc(copy);
			expect(loaded.snapshot).toEqual(new Uint8Array([5]));
			expect(loaded.updates.map((u) => [u.seq, u.room])).toEqual([[3, copy]]);
			expect(await storage.history(copy)).toEqual(await storage.history(r));
			expect(await storage.appendUpdates([record(copy, 4)])).toEqual([4]);
			await expect(storage.restoreDocument(copy, dump)).rejects.toThrow(/already/);
		});

		if (options.reopenable) {
			it('[PERSIST1] closing and reopening the same database keeps everything', async () => {
				const reopen = ctx.reopen;
				if (!reopen) throw new Error('setup has no reopen');
				const { owner, workspace } = await ownedWorkspace(storage);
				const r = room(workspace);
				await storage.appendUpdates([record(r, 1, owner.id), record(r, 2, owner.id)]);
				await storage.compact(r, new Uint8Array([4, 2]), 1);
				await storage.createSession({ tokenHash: 's', userId: owner.id, expiresAt: T0 + 9 });
				await storage.putDataset(
					{ id: 'd', workspace, name: 'd.csv', createdBy: owner.id, createdAt: T0, bytes: 3 },
					new Uint8Array([1, 2, 3])
				);
				await storage.markRunActive(workspace, 'run1' as RunId);
				const pending = storage.appendUpdates([record(r, 3, owner.id)]);
				const before = {
					users: await storage.listUsers(),
					members: await storage.listMembers(workspace),
					history: await storage.history(r)
				};
				await storage.close();
				expect(await pending).toEqual([3]);

				storage = await reopen();
				const doc = await storage.loadDoc(r);
				expect(doc.snapshot).toEqual(new Uint8Array([4, 2]));
				expect(doc.updates.map((u) => [u.seq, u.author, u.at])).toEqual([
					[2, owner.id, T0 + 2],
					[3, owner.id, T0 + 3]
				]);
				expect(await storage.listUsers()).toEqual(before.users);
				expect(await storage.listMembers(workspace)).toEqual(before.members);
				expect((await storage.history(r)).slice(1)).toEqual(before.history);
				expect(await storage.getSession('s')).not.toBeNull();
				expect((await storage.getDataset(workspace, 'd'))?.content).toEqual(
					new Uint8Array([1, 2, 3])
				);
				expect(await storage.listActiveRuns()).toEqual([{ workspace, run: 'run1', owner: '' }]);
				expect(await storage.appendUpdates([record(r, 4)])).toEqual([4]);
			});
		}
	});
}
