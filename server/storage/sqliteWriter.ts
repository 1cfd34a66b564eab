// The SQLite writer thread (SqliteStorage with writer: 'worker'): group commits
// run here so that their fsync never blocks the main thread's event loop, and so
// do the history summariser's transactions (HIST9), so that the main thread never
// waits for this thread's write lock.
// Messages: { id, records, fail? } → { id, seqs } | { id, error };
//           { id, advance } → { id, moved } | { id, error }.

import { parentPort, workerData } from 'node:worker_threads';
import type { HistoryAdvance, UpdateRecord } from './types.ts';
import { advancePlan } from './archive.ts';
import { openSqlite, runPlanSync, SqliteCommitter, sqliteTransaction } from './sqliteConnection.ts';

export type WriterRequest =
	| {
			readonly id: number;
			readonly records: readonly UpdateRecord[];
			/** An injected failure (contract tests): thrown after the rows are written. */
			readonly fail?: string;
	  }
	| { readonly id: number; readonly advance: HistoryAdvance };

export type WriterReply =
	| { readonly id: number; readonly seqs: number[] }
	| { readonly id: number; readonly moved: boolean }
	| { readonly id: number; readonly error: { message: string; code?: string } };

const port = parentPort;
if (!port) throw new Error('sqliteWriter.ts runs as a worker thread');
const { path } = workerData as { path: string };
const db = openSqlite(path);
const committer = new SqliteCommitter(db);

function handle(request: WriterRequest): WriterReply {
	if ('advance' in request) {
		const plan = advancePlan(request.advance);
		const moved = sqliteTransaction(
			db,
			() => runPlanSync(plan, (sql, params) => db.prepare(sql).all(...params)),
			false
		);
		return { id: request.id, moved };
	}
	const seqs = committer.commit(request.records, () => {
		if (request.fail !== undefined) throw new Error(request.fail);
	});
	return { id: request.id, seqs };
}

port.on('message', (request: WriterRequest | 'close') => {
	if (request === 'close') {
		db.close();
		port.close();
		return;
	}
	let reply: WriterReply;
	try {
		reply = handle(request);
	} catch (error) {
		const e = error as { message?: unknown; code?: unknown };
		reply = {
			id: request.id,
			error: {
				message: typeof e.message === 'string' ? e.message : String(error),
				...(typeof e.code === 'string' ? { code: e.code } : {})
			}
		};
	}
	port.postMessage(reply);
});
