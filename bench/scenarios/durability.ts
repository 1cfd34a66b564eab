// Scenario 6 (Ensemble only; the peers have no saved acknowledgement): clients
// send one-character updates and time each until a `saved` message covers it.
// One connection may send 200 messages/s (relay limit), so an offered rate is
// spread over enough clients, each in its own room, as many people typing.

import type { DurabilityJob, DurabilityResult } from '../load/jobs.ts';
import { LoadProc, startServer } from '../lib/proc.ts';
import { prepareRooms } from '../lib/rooms.ts';
import { latency } from '../lib/stats.ts';
import type { BenchConfig, Metrics, Scenario } from './types.ts';

const PER_CLIENT = 100;

export const durabilityScenario: Scenario = {
	id: 'durability',
	title: '6. Durability (send → saved acknowledgement; Ensemble only)',
	servers: ['ensemble'],
	async run(_kind, config: BenchConfig): Promise<Metrics> {
		const rates = config.quick ? [5000] : [1000, 5000, 10000];
		const durationMs = config.quick ? 3_000 : 5_000;
		const metrics: Metrics = {};
		for (const rate of rates) {
			const server = await startServer('ensemble', { cpuProfDir: config.cpuProfDir ?? undefined });
			try {
				const clients = Math.ceil(rate / PER_CLIENT);
				const refs = await prepareRooms(server, clients);
				// Two load processes with half the clients each.
				const runs = [0, 1].map((half) => {
					const job: DurabilityJob = {
						kind: 'durability',
						refs: refs.filter((_, i) => i % 2 === half),
						rate: PER_CLIENT,
						durationMs
					};
					return new LoadProc<DurabilityResult>(job, durationMs + 60_000);
				});
				await Promise.all(runs.map((r) => r.mark('ready')));
				await server.profileStart();
				for (const r of runs) r.release('ready');
				const results = await Promise.all(runs.map((r) => r.result));
				await server.profileStop(`durability-${rate}`);
				const lat = latency(results.flatMap((r) => r.samples));
				const saved = results.reduce((a, r) => a + r.saved, 0);
				const elapsed = Math.max(...results.map((r) => r.elapsedMs));
				const sent = results.reduce((a, r) => a + r.sent, 0);
				metrics[`${rate}/s offered: saved-ack p50 ms`] = lat.p50;
				metrics[`${rate}/s offered: saved-ack p95 ms`] = lat.p95;
				metrics[`${rate}/s offered: saved-ack p99 ms`] = lat.p99;
				metrics[`${rate}/s offered: durable updates/s`] = (saved / elapsed) * 1000;
				metrics[`${rate}/s offered: sent updates/s`] = (sent / elapsed) * 1000;
			} finally {
				await server.close();
			}
		}
		return metrics;
	}
};
