// Issue 8's memory goals: server memory per idle connection (bare connections to
// one room, synced, then silent) and per idle loaded document beyond its content
// (documents of ~1 KB written by a client that then left); and, for Ensemble,
// whether idle documents are unloaded (ensemble_documents_loaded before/after).
// Memory is the server's RSS after two full GCs, over the same server after a
// first document was opened and closed (so one-time costs are not spread).

import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import type { IdleJob, IdleResult, SeedJob, SeedResult } from '../load/jobs.ts';
import { LoadProc, startServer } from '../lib/proc.ts';
import { metric, prepareRooms } from '../lib/rooms.ts';
import type { ServerKind } from '../servers/types.ts';
import { ALL, type BenchConfig, type Metrics, type Scenario } from './types.ts';
import { scratchText } from '../../tests/helpers/schemaRoots.ts';

const KB = 1024;

/** A ~1 KB document: a short text, as an update file. */
function smallDocFile(): { file: string; bytes: number } {
	const dir = join(tmpdir(), 'ensemble-bench-cache');
	mkdirSync(dir, { recursive: true });
	const doc = new Y.Doc();
	scratchText(doc).insert(0, 'lorem ipsum dolor sit amet, '.repeat(36));
	const update = Y.encodeStateAsUpdate(doc);
	const file = join(dir, 'small-doc-config.bin');
	writeFileSync(file, update);
	return { file, bytes: update.length };
}

export const memoryScenario: Scenario = {
	id: 'memory',
	title: 'Memory per idle connection and per idle document (issue 8)',
	servers: ALL,
	async run(kind: ServerKind, config: BenchConfig): Promise<Metrics> {
		const connections = config.quick ? 200 : 1000;
		const documents = config.quick ? 40 : 200;
		const metrics: Metrics = {};
		const server = await startServer(kind, { cpuProfDir: config.cpuProfDir ?? undefined });
		try {
			// Before any account or room exists: what the process holds for itself.
			metrics['idle server RSS after start MB'] = (await server.sample(true)).rss / KB / KB;
			const [room] = await prepareRooms(server, 1);
			if (!room) throw new Error('no room');
			// One connection first, closed again: what the first document costs once
			// (Ensemble starts its SQLite writer thread then) is not per connection.
			const first = new LoadProc<IdleResult>(
				{ kind: 'idle', refs: [room], connectBatch: 1 } satisfies IdleJob,
				60_000
			);
			await first.mark('connected');
			first.release('connected');
			first.release('close');
			await first.result;
			const empty = await server.sample(true);
			metrics['RSS after a first document was opened and closed MB'] = empty.rss / KB / KB;
			const job: IdleJob = {
				kind: 'idle',
				refs: Array.from({ length: connections }, () => room),
				connectBatch: 100
			};
			const idle = new LoadProc<IdleResult>(job, 120_000);
			await idle.mark('connected');
			const held = await server.sample(true);
			idle.release('connected');
			idle.release('close');
			await idle.result;
			metrics['per idle connection KB'] = (held.rss - empty.rss) / connections / KB;
			metrics['per idle connection, heap+external KB'] =
				(held.heapUsed + held.external - empty.heapUsed - empty.external) / connections / KB;
		} finally {
			await server.close();
		}
		if (kind === 'hocuspocus') return metrics; // unloads a document as soon as its last client leaves

		const docsServer = await startServer(kind, { cpuProfDir: config.cpuProfDir ?? undefined });
		try {
			const [warm, ...refs] = await prepareRooms(docsServer, documents + 1);
			if (!warm) throw new Error('no room');
			const small = smallDocFile();
			// As above: the first document's one-time costs are not per document.
			await new LoadProc<SeedResult>(
				{ kind: 'seed', refs: [warm], updateFiles: [small.file], hold: false } satisfies SeedJob,
				60_000
			).result;
			const before = await docsServer.sample(true);
			const seed: SeedJob = { kind: 'seed', refs, updateFiles: [small.file], hold: false };
			await new LoadProc<SeedResult>(seed, 300_000).result;
			const loaded = await docsServer.sample(true);
			metrics['per idle loaded document beyond content KB'] =
				(loaded.rss - before.rss) / documents / KB - small.bytes / KB;
			if (kind === 'ensemble') {
				const count0 = await metric(docsServer, 'ensemble_documents_loaded');
				metrics['idle documents loaded right after'] = count0;
				if (!config.quick) {
					// The relay unloads a room idle for 30 s; wait for it (bounded; full mode only).
					const deadline = performance.now() + 50_000;
					let count = count0;
					while (performance.now() < deadline && count > 0) {
						await new Promise((resolve) => setTimeout(resolve, 2_000));
						count = await metric(docsServer, 'ensemble_documents_loaded');
					}
					metrics['idle documents loaded 30–50 s later'] = count;
				}
			}
		} finally {
			await docsServer.close();
		}
		return metrics;
	}
};
