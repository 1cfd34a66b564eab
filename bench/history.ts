// Issue 13's history benchmark: the workspace at a random past moment when its
// code document's log holds 100,000 updates, and what keeping that history costs
// in storage. Not a test: run it with `npm run bench:history`.
//
// The real server (startServer, SQLite in a temp DATA_DIR) with the history
// service running as in production (the tailer summarises after `onStored` and
// writes a checkpoint every 1,000 updates). The first UPDATES transactions of the
// automerge-paper trace are written into `code`'s file `paper.md` through the
// relay's API (relay.write: stored before anyone sees it), BATCH of them in one
// tick (one group commit), the injected clock moving STEP_MS per batch. Then
// GET /api/workspaces/{id}/history?at=<random moment> SAMPLES times over HTTP
// (seeded; the text is checked against a local replay to that moment).
// Storage: live page count at every 10,000 updates, and at the end VACUUM INTO
// copies: as stored (history kept), the update log alone (no checkpoints, no
// activity), and the log compacted the way it was before history (update bytes
// NULL, one snapshot: today's store without history).

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import * as Y from 'yjs';
import { startServer } from '../server/main.ts';
import type { DocKey } from '../server/protocol/docs.ts';
import type { UserId, WorkspaceId } from '../server/protocol/ids.ts';
import { SQLITE_FILE } from '../server/storage/sqliteBackup.ts';
import { ApiClient } from '../tests/helpers/http.ts';
import { mulberry32 } from '../tests/helpers/random.ts';
import { applyPatches, loadTrace } from './lib/trace.ts';
import { latency } from './lib/stats.ts';

const UPDATES = Number(process.env.UPDATES ?? 100_000);
const SAMPLES = Number(process.env.SAMPLES ?? 60);
const SEED = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
const BATCH = 100;
const STEP_MS = 100;
const FILE = 'paper.md';
const GOAL_P95_MS = 200;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

async function main(): Promise<void> {
	console.log(`history bench: ${UPDATES} updates, ${SAMPLES} samples, seed ${SEED}`);
	const loadAtStart = loadavg();
	const trace = loadTrace('automerge-paper');
	if (trace.txns.length < UPDATES) throw new Error(`the trace has ${trace.txns.length} txns`);
	const batches = Math.ceil(UPDATES / BATCH);
	const rand = mulberry32(SEED);
	// The moments to ask for, chosen first so that the replay keeps their expected text.
	const wanted = Array.from({ length: SAMPLES }, () => ({
		batch: Math.floor(rand() * batches),
		jitter: Math.floor(rand() * STEP_MS)
	}));
	const expected = new Map<number, string>(wanted.map((w) => [w.batch, '']));

	const dataDir = await mkdtemp(join(tmpdir(), 'ensemble-histbench-'));
	let offset = 0;
	const base = Date.now();
	const clock = { now: () => base + offset };
	const server = await startServer({
		env: {},
		port: 0,
		host: '127.0.0.1',
		logLevel: 'warn',
		secret: 'bench-secret-bench-secret-bench-secret-0123456789',
		dataDir,
		clock
	});
	const dbPath = join(dataDir, SQLITE_FILE);
	const reader = new DatabaseSync(dbPath, { readOnly: true });
	const pages = () => {
		const n = (sql: string) => Object.values(reader.prepare(sql).get()!)[0] as number;
		return (n('PRAGMA page_count') - n('PRAGMA freelist_count')) * n('PRAGMA page_size');
	};
	try {
		const api = new ApiClient(server.url);
		const me = await api.signup('Hilda', `hilda.${process.pid}@example.com`);
		const workspace = (await api.createWorkspace('History bench')).id;
		const key: DocKey = { workspace: workspace as WorkspaceId, doc: 'code' };
		const author = me.id as UserId;
		const room = `${workspace}/code`;
		const local = new Y.Doc();
		const localText = local.getText();
		localText.insert(0, trace.startContent);
		offset += STEP_MS;
		await server.relay.write(key, author, (doc) => {
			doc.getMap('files').set(FILE, new Y.Text(trace.startContent));
		});
		const startSize = pages();
		// Everything the benchmark compares starts from this database (one file, no checkpoint).
		const copies = await mkdtemp(join(tmpdir(), 'ensemble-histbench-copies-'));
		const empty = join(copies, 'empty.db');
		reader.exec(`VACUUM INTO '${empty}'`);
		const emptyBytes = (await stat(empty)).size;
		const growth: { updates: number; bytes: number; seconds: number }[] = [];
		const t0 = performance.now();
		let sent = 0;
		for (let b = 0; b < batches; b++) {
			offset += STEP_MS;
			const writes: Promise<void>[] = [];
			for (let i = 0; i < BATCH && sent < UPDATES; i++, sent++) {
				const { patches } = trace.txns[sent]!;
				applyPatches(localText, patches);
				writes.push(
					server.relay.write(key, author, (doc) => {
						applyPatches(doc.getMap('files').get(FILE) as Y.Text, patches);
					})
				);
			}
			await Promise.all(writes);
			if (expected.has(b)) expected.set(b, localText.toJSON());
			if (sent % 10_000 === 0 || sent === UPDATES) {
				// An activity listing catches the summariser up (HIST3), as a page would.
				const feed = await api.get(`/api/workspaces/${workspace}/activity?limit=1`);
				if (feed.status !== 200) throw new Error(`activity: ${feed.status}`);
				growth.push({ updates: sent, bytes: pages(), seconds: (performance.now() - t0) / 1000 });
				console.log(
					`  ${sent} updates stored and summarised in ${growth.at(-1)!.seconds.toFixed(1)} s; database ${mb(growth.at(-1)!.bytes)}`
				);
			}
		}
		const check = reader
			.prepare(
				'SELECT count(*) AS n, (SELECT count(*) FROM history_checkpoints WHERE room = ?) AS c FROM updates WHERE room = ?'
			)
			.get(room, room) as { n: number; c: number };
		console.log(`  log of ${room}: ${check.n} updates, ${check.c} checkpoints`);

		// The moments.
		const times: number[] = [];
		let wrong = 0;
		for (const w of wanted) {
			const at = base + STEP_MS * (w.batch + 2) + w.jitter;
			const t = performance.now();
			const reply = await api.get<{ files: Record<string, string> }>(
				`/api/workspaces/${workspace}/history?at=${new Date(at).toISOString()}`
			);
			times.push(performance.now() - t);
			if (reply.status !== 200)
				throw new Error(`history: ${reply.status} ${JSON.stringify(reply.body)}`);
			if (reply.body.files[FILE] !== expected.get(w.batch)) wrong++;
		}
		const l = latency(times);
		console.log(
			`GET history?at= over ${l.n} moments: p50 ${l.p50.toFixed(1)} ms, p95 ${l.p95.toFixed(1)} ms, max ${l.max.toFixed(1)} ms (goal p95 ≤ ${GOAL_P95_MS} ms: ${l.p95 <= GOAL_P95_MS ? 'met' : 'missed'}); ${wrong} wrong texts`
		);

		// Storage: compact copies of the database as stored and as it would be without history.
		const parts = reader
			.prepare(
				`SELECT (SELECT sum(length(data)) FROM updates WHERE room = ?) AS updates,
					(SELECT sum(length(state)) FROM history_checkpoints WHERE room = ?) AS checkpoints,
					(SELECT max(length(state)) FROM history_checkpoints WHERE room = ?) AS lastCheckpoint,
					(SELECT sum(length(summary) + length(data)) FROM activity) AS activity`
			)
			.get(room, room, room) as Record<
			'updates' | 'checkpoints' | 'lastCheckpoint' | 'activity',
			number
		>;
		console.log(
			`  content bytes: updates ${mb(parts.updates)}, checkpoints ${mb(parts.checkpoints)} (the last ${mb(parts.lastCheckpoint)}), activity ${mb(parts.activity)}`
		);
		const kept = join(copies, 'kept.db');
		reader.exec(`VACUUM INTO '${kept}'`);
		const keptBytes = (await stat(kept)).size;
		const db = new DatabaseSync(kept);
		db.exec('DELETE FROM history_checkpoints; DELETE FROM activity; DELETE FROM history_cursors;');
		const logOnly = join(copies, 'log.db');
		db.exec(`VACUUM INTO '${logOnly}'`);
		const logBytes = (await stat(logOnly)).size;
		const last = (
			db.prepare('SELECT last_seq FROM rooms WHERE room = ?').get(room) as { last_seq: number }
		).last_seq;
		db.prepare('UPDATE updates SET data = NULL WHERE room = ?').run(room);
		// Migration 4 added this index for `history?at=`; the store before it had none.
		db.exec('DROP INDEX updates_at');
		db.prepare('UPDATE rooms SET snapshot = ?, snapshot_seq = ? WHERE room = ?').run(
			Y.encodeStateAsUpdate(local),
			last,
			room
		);
		const compacted = join(copies, 'compacted.db');
		db.exec(`VACUUM INTO '${compacted}'`);
		const compactedBytes = (await stat(compacted)).size;
		db.close();
		await rm(copies, { recursive: true, force: true });
		const per10k = (bytes: number) => ((bytes - emptyBytes) * 10_000) / UPDATES;
		console.log(
			`database ${mb(emptyBytes)} before the replay; after it: history kept ${mb(keptBytes)}, update log alone ${mb(logBytes)}, compacted without history ${mb(compactedBytes)}`
		);
		console.log(
			`storage growth per 10,000 updates: history kept ${mb(per10k(keptBytes))}, ` +
				`update log alone ${mb(per10k(logBytes))}, compacted without history (before issue 13) ${mb(per10k(compactedBytes))}`
		);
		const steps = growth.map((g, i) => g.bytes - (i === 0 ? startSize : growth[i - 1]!.bytes));
		console.log(`  live growth per 10,000 (pages in use): ${steps.map(mb).join(', ')}`);

		const result = {
			date: new Date().toISOString(),
			seed: SEED,
			loadAverage: { atStart: loadAtStart, atEnd: loadavg() },
			updates: UPDATES,
			samples: SAMPLES,
			trace: 'automerge-paper',
			checkpoints: check.c,
			wrongTexts: wrong,
			latencyMs: l,
			goalP95Ms: GOAL_P95_MS,
			storeSeconds: growth.at(-1)?.seconds,
			contentBytes: parts,
			bytes: {
				before: emptyBytes,
				kept: keptBytes,
				logOnly: logBytes,
				compactedWithoutHistory: compactedBytes
			},
			per10kBytes: {
				kept: per10k(keptBytes),
				logOnly: per10k(logBytes),
				compactedWithoutHistory: per10k(compactedBytes)
			},
			liveGrowthPer10k: steps
		};
		writeFileSync(
			join(import.meta.dirname, 'results/history.json'),
			JSON.stringify(result, null, '\t') + '\n'
		);
		if (wrong > 0) process.exitCode = 1;
	} finally {
		reader.close();
		await server.close();
		await rm(dataDir, { recursive: true, force: true });
	}
}

await main();
