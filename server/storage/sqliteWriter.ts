// The SQLite writer thread (SqliteStorage with writer: 'worker'): group commits
// run here so that their fsync never blocks the main thread's event loop.
// Messages: { id, records, fail? } → { id, seqs } | { id, error }.

import { parentPort, workerData } from 'node:worker_threads';
import type { UpdateRecord } from './types.ts';
import { openSqlite, SqliteCommitter } from './sqliteConnection.ts';

export interface WriterRequest {
	readonly id: number;
	readonly records: readonly UpdateRecord[];
	/** An injected failure (contract tests): thrown after the rows are written. */
	readonly fail?: string;
}

export type WriterReply =
	| { readonly id: number; readonly seqs: number[] }
	| { readonly id: number; readonly error: { message: string; code?: string } };

const port = parentPort;
if (!port) throw new Error('sqliteWriter.ts runs as a worker thread');
const { path } = workerData as { path: string };
const db = openSqlite(path);
const committer = new SqliteCommitter(db);

port.on('message', (request: WriterRequest | 'close') => {
	if (request === 'close') {
		db.close();
		port.close();
		return;
	}
	let reply: WriterReply;
	try {
		const seqs = committer.commit(request.records, () => {
			if (request.fail !== undefined) throw new Error(request.fail);
		});
		reply = { id: request.id, seqs };
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
