// Scenario 5: a large document (automerge-paper's history ×20, by 20 clients)
// re-synced in a loop by several bare clients, while a probe (one writer at 50
// stamps/s, one reader) measures delivery p99 on a small document: p99 under that
// load over p99 without it.

import type { ClientsJob, LoadersJob, LoadersResult, SeedJob, SeedResult } from '../load/jobs.ts';
import { LoadProc, startServer } from '../lib/proc.ts';
import { prepareRooms } from '../lib/rooms.ts';
import { traceDocFiles } from '../lib/docs.ts';
import type { RoomRef } from '../lib/clients.ts';
import type { ServerKind } from '../servers/types.ts';
import { phase } from './phase.ts';
import { ALL, type BenchConfig, type Metrics, type Scenario } from './types.ts';

function probe(ref: RoomRef, durationMs: number): ClientsJob {
	return {
		kind: 'clients',
		rooms: [ref],
		clientsPerRoom: 2,
		writersPerRoom: 1,
		rate: 50,
		cursor: true,
		presence: true,
		renewAtMs: null,
		durationMs,
		connectBatch: 2,
		ack: true
	};
}

export const isolationScenario: Scenario = {
	id: 'isolation',
	title: '5. Isolation (large document re-synced in a loop vs a probe on a small one)',
	servers: ALL,
	async run(kind: ServerKind, config: BenchConfig): Promise<Metrics> {
		const copies = config.quick ? 2 : 20;
		const loaders = config.quick ? 3 : 4;
		const durationMs = config.quick ? 3_000 : 8_000;
		const files = traceDocFiles('automerge-paper', copies);
		const server = await startServer(kind, { cpuProfDir: config.cpuProfDir ?? undefined });
		try {
			const [big, small] = await prepareRooms(server, 2);
			if (!big || !small) throw new Error('no rooms');
			const seed: SeedJob = { kind: 'seed', refs: [big], updateFiles: files, hold: true };
			const holder = new LoadProc<SeedResult>(seed, 600_000);
			try {
				await holder.mark('seeded');
				holder.release('seeded');
				const unloaded = await phase(server, [probe(small, durationMs)], 1, 'isolation-unloaded');
				const job: LoadersJob = {
					kind: 'loaders',
					ref: big,
					clients: loaders,
					durationMs: durationMs + 3_000
				};
				const load = new LoadProc<LoadersResult>(job, durationMs + 120_000);
				await load.mark('ready');
				load.release('ready');
				const loaded = await phase(
					server,
					[probe(small, durationMs)],
					1,
					'isolation-loaded',
					async () => {
						// Let the loaders get going before the probe starts.
						await new Promise((resolve) => setTimeout(resolve, 1_000));
					}
				);
				const l = await load.result;
				return {
					[`document size (${copies} copies) MB`]: l.syncs
						? l.bytes / l.syncs / 1024 / 1024
						: Number.NaN,
					'probe p99 unloaded ms': unloaded.latency.p99,
					'probe p99 under load ms': loaded.latency.p99,
					'probe p99 loaded / unloaded': loaded.latency.p99 / unloaded.latency.p99,
					'probe p50 under load ms': loaded.latency.p50,
					'large-document syncs served per s': (l.syncs / job.durationMs) * 1000,
					'loader errors': l.errors,
					'server peak RSS MB': (await server.sample()).vmHWM / 1024 / 1024
				};
			} finally {
				holder.release('close');
				await holder.result.catch(() => undefined);
				holder.kill();
			}
		} finally {
			await server.close();
		}
	}
};
