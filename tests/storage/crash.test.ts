// Durability across a crash: an update whose append has resolved is on disk, even
// if the process is killed (SIGKILL) right after.

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../server/protocol/ids.ts';
import { SqliteStorage } from '../../server/storage/sqlite.ts';
import { record, room } from './fixtures.ts';
import { tempDir } from './helpers.ts';

const NODE = join(process.cwd(), 'node_modules/.bin/node');
const CHILD = join(import.meta.dirname, 'crash-child.ts');

const dirs: string[] = [];
afterEach(() => {
	for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SQLite durability', () => {
	it('[PERSIST3] every append that resolved before a SIGKILL is there after reopening', async () => {
		const dir = tempDir();
		dirs.push(dir);
		const path = join(dir, 'ensemble.db');
		const child = spawn(NODE, [CHILD, path], { stdio: ['ignore', 'pipe', 'pipe'] });
		let stderr = '';
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
			child.on('exit', (code, signal) => resolve(signal ?? code))
		);

		// seq → the record number the child wrote with it.
		const acknowledged = new Map<number, number>();
		const lines = createInterface({ input: child.stdout });
		for await (const line of lines) {
			const [seq, id] = line.split(' ').map(Number);
			if (seq === undefined || id === undefined || Number.isNaN(seq)) break;
			acknowledged.set(seq, id);
			if (acknowledged.size >= 300) {
				child.kill('SIGKILL');
				break;
			}
		}
		expect(await exited, stderr).toBe('SIGKILL');
		expect(acknowledged.size).toBe(300);

		const store = new SqliteStorage({ path });
		try {
			const r = room('crash' as WorkspaceId);
			const doc = await store.loadDoc(r);
			const stored = new Map(doc.updates.map((u) => [u.seq, u]));
			for (const [seq, id] of acknowledged) {
				expect(stored.get(seq)?.update, `seq ${seq}`).toEqual(record(r, id, null, 100).update);
			}
			// Seqs have no gaps, and the log goes on after the last one.
			expect(doc.updates.map((u) => u.seq)).toEqual(
				Array.from({ length: doc.updates.length }, (_, i) => i + 1)
			);
			expect(await store.appendUpdates([record(r, 0)])).toEqual([doc.lastSeq + 1]);
		} finally {
			await store.close();
		}
	});
});
