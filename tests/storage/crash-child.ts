// Run by crash.test.ts in a child process: appends without pause and prints each
// seq as soon as its append resolves, until the parent kills it with SIGKILL.
// Usage: crash-child.ts sqlite <file> | crash-child.ts postgres <url> <schema>

import type { WorkspaceId } from '../../server/protocol/ids.ts';
import type { EnsembleStorage } from '../../server/storage/common.ts';
import { PostgresStorage } from '../../server/storage/postgres.ts';
import { SqliteStorage } from '../../server/storage/sqlite.ts';
import { record, room } from './fixtures.ts';

const [kind, where, schema] = process.argv.slice(2);
if (!where) throw new Error('usage: crash-child.ts sqlite <file> | postgres <url> <schema>');
const store: EnsembleStorage =
	kind === 'postgres'
		? await PostgresStorage.open({ connectionString: where, schema })
		: new SqliteStorage({ path: where });
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
