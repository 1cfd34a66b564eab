// Run by crash.test.ts in a child process: appends without pause and prints each
// seq as soon as its append resolves, until the parent kills it with SIGKILL.

import type { WorkspaceId } from '../../server/protocol/ids.ts';
import { SqliteStorage } from '../../server/storage/sqlite.ts';
import { record, room } from './fixtures.ts';

const path = process.argv[2];
if (!path) throw new Error('usage: crash-child.ts <database file>');
const store = new SqliteStorage({ path });
const r = room('crash' as WorkspaceId);

let n = 0;
// Bounded: the parent kills the child long before this ends.
for (let round = 0; round < 10_000; round++) {
	const calls = Array.from({ length: 20 }, () => {
		n += 1;
		const id = n;
		return store.appendUpdates([record(r, id, null, 100)]).then(([seq]) => {
			process.stdout.write(`${seq} ${id}\n`);
		});
	});
	await Promise.all(calls);
}
process.stdout.write('done\n');
