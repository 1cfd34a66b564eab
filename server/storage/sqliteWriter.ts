// The SQLite writer thread (SqliteStorage with writer: 'worker'): group commits
// run here so that their fsync never blocks the main thread's event loop, and so
// do the history summariser's transactions (HIST9), so that the main thread never
// waits for this thread's write lock. Whatever queued while it was busy is taken
// together: update commits first, in order, then every summary in one transaction.
// Messages: { id, records, fail? } → { id, seqs } | { id, error };
//           { id, advance } → { id, moved } | { id, error }.

import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { StatementSync } from 'node:sqlite';
import type { HistoryAdvance, UpdateRecord } from './types.ts';
import { advancePlan } from './archive.ts';
import { openSqlite, runPlanSync, SqliteCommitter, sqliteTransaction } from './sqliteConnection.ts';

type CommitRequest = {
	readonly id: number;
	readonly records: readonly UpdateRecord[];
	/** An injected failure (contract tests): thrown after the rows are written. */
	readonly fail?: string;
};
type AdvanceRequest = { readonly id: number; readonly advance: HistoryAdvance };
export type WriterRequest = CommitRequest | AdvanceRequest;

export type WriterReply =
	| { readonly id: number; readonly seqs: number[] }
	| { readonly id: number; readonly moved: boolean }
	| { readonly id: number; readonly error: { message: string; code?: string } };

const port = parentPort;
if (!port) throw new Error('sqliteWriter.ts runs as a worker thread');
const { path } = workerData as { path: string };
const db = openSqlite(path);
const committer = new SqliteCommitter(db);
const statements = new Map<string, StatementSync>();

function prepared(sql: string): StatementSync {
	let st = statements.get(sql);
	if (!st) {
		st = db.prepare(sql);
		statements.set(sql, st);
	}
	return st;
}

function failed(id: number, error: unknown): WriterReply {
	const e = error as { message?: unknown; code?: unknown };
	return {
		id,
		error: {
			message: typeof e.message === 'string' ? e.message : String(error),
			...(typeof e.code === 'string' ? { code: e.code } : {})
		}
	};
}

function commit(request: CommitRequest): WriterReply {
	try {
		const seqs = committer.commit(request.records, () => {
			if (request.fail !== undefined) throw new Error(request.fail);
		});
		return { id: request.id, seqs };
	} catch (error) {
		return failed(request.id, error);
	}
}

/** Every summary that queued, in one transaction without a sync of its own (HIST9). */
function advance(requests: readonly AdvanceRequest[]): WriterReply[] {
	try {
		const moved = sqliteTransaction(
			db,
			() =>
				requests.map((r) =>
					runPlanSync(advancePlan(r.advance), (sql, params) => prepared(sql).all(...params))
				),
			false
		);
		return requests.map((r, i) => ({ id: r.id, moved: moved[i]! }));
	} catch (error) {
		return requests.map((r) => failed(r.id, error));
	}
}

port.on('message', (first: WriterRequest | 'close') => {
	const queued: Array<WriterRequest | 'close'> = [first];
	for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port))
		queued.push(next.message as WriterRequest | 'close');
	const advances: AdvanceRequest[] = [];
	for (const request of queued) {
		if (request === 'close') continue;
		if ('advance' in request) advances.push(request);
		else port.postMessage(commit(request));
	}
	if (advances.length > 0) for (const reply of advance(advances)) port.postMessage(reply);
	if (queued.includes('close')) {
		statements.clear();
		db.close();
		port.close();
	}
});
