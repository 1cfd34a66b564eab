// Scenario 4: a stored, unloaded document holding automerge-paper's whole history
// (311 KB): time from connect to synced with the whole text, against the floor of
// decoding and encoding it in process. Each document is stored, then the server
// restarts on the same data directory, so nothing is loaded; Ensemble gets it
// through a client (confirmed by its saved acknowledgement), the peers' SQLite
// files are written directly.

import { readFileSync, rmSync } from 'node:fs';
import type { ColdLoadJob, ColdLoadResult, SeedJob, SeedResult } from '../load/jobs.ts';
import { LoadProc, makeDataDir, startServer } from '../lib/proc.ts';
import { prepareRooms, refreshTokens } from '../lib/rooms.ts';
import { decodeEncodeFloorMs, traceDocFiles } from '../lib/docs.ts';
import { SqliteDocs } from '../servers/sqliteDocs.ts';
import type { ServerKind } from '../servers/types.ts';
import type { RoomRef } from '../lib/clients.ts';
import { ALL, type BenchConfig, type Metrics, type Scenario } from './types.ts';

export const coldloadScenario: Scenario = {
	id: 'coldload',
	title: '4. Cold load (stored automerge-paper document, 311 KB, not loaded)',
	servers: ALL,
	async run(kind: ServerKind, config: BenchConfig): Promise<Metrics> {
		const docs = config.quick ? 3 : 5;
		const files = traceDocFiles('automerge-paper', 1);
		const update = new Uint8Array(readFileSync(files[0] ?? ''));
		const dataDir = makeDataDir();
		try {
			let refs: RoomRef[];
			const first = await startServer(kind, { dataDir, store: true });
			try {
				refs = await prepareRooms(first, docs);
				if (kind === 'ensemble') {
					const seed: SeedJob = { kind: 'seed', refs, updateFiles: files, hold: false };
					await new LoadProc<SeedResult>(seed, 120_000).result;
				}
			} finally {
				await first.close();
			}
			if (kind !== 'ensemble') {
				const store = new SqliteDocs(dataDir);
				for (const ref of refs) store.append(ref.room, update);
				store.close();
			}
			const server = await startServer(kind, {
				dataDir,
				store: true,
				cpuProfDir: config.cpuProfDir ?? undefined
			});
			try {
				const job: ColdLoadJob = {
					kind: 'coldLoad',
					refs: await refreshTokens(first, server, refs),
					trace: 'automerge-paper'
				};
				await server.profileStart();
				const r = await new LoadProc<ColdLoadResult>(job, 120_000).result;
				await server.profileStop('coldload');
				const warm = r.ms.slice(1).sort((a, b) => a - b);
				const floor = decodeEncodeFloorMs(update);
				const median = warm[warm.length >> 1] ?? Number.NaN;
				return {
					'connect → synced ms': median,
					'first document after start ms': r.ms[0] ?? Number.NaN,
					'in-process floor (decode + encode) ms': floor,
					'ratio to floor': median / floor,
					'text = endContent (1 = yes)': r.textOk ? 1 : 0,
					'server peak RSS MB': (await server.sample()).vmHWM / 1024 / 1024
				};
			} finally {
				await server.close();
			}
		} finally {
			rmSync(dataDir, { recursive: true, force: true });
		}
	}
};
