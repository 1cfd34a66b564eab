// Scenario 2: one writer at 20 stamps/s moving its cursor, N readers with
// presence; p99 against N and the largest N whose p99 stays ≤ 50 ms. Readers
// renew their presence once during the run, all together, as clients that
// connected together do every 15 s (the renewal storm).

import type { ClientsJob } from '../load/jobs.ts';
import { startServer } from '../lib/proc.ts';
import { prepareRooms } from '../lib/rooms.ts';
import type { ServerKind } from '../servers/types.ts';
import { phase, split } from './phase.ts';
import { ALL, type BenchConfig, type Metrics, type Scenario } from './types.ts';

export const fanoutScenario: Scenario = {
	id: 'fanout',
	title: '2. Fan-out (one writer at 20 ops/s with cursor, N readers with presence)',
	servers: ALL,
	async run(kind: ServerKind, config: BenchConfig): Promise<Metrics> {
		const ns = config.quick ? [100] : [10, 50, 100, 250, 500];
		const durationMs = config.quick ? 4_000 : 8_000;
		const metrics: Metrics = {};
		let best = 0;
		for (const n of ns) {
			const server = await startServer(kind, { cpuProfDir: config.cpuProfDir ?? undefined });
			try {
				const [ref] = await prepareRooms(server, 1);
				if (!ref) throw new Error('no room');
				const base = {
					kind: 'clients',
					rooms: [ref],
					rate: 20,
					cursor: true,
					presence: true,
					renewAtMs: Math.round(durationMs / 3),
					durationMs,
					connectBatch: 50,
					ack: false
				} as const;
				const jobs: ClientsJob[] = split(n, 250).map((count) => ({
					...base,
					clientsPerRoom: count,
					writersPerRoom: 0
				}));
				jobs.push({ ...base, clientsPerRoom: 1, writersPerRoom: 1, renewAtMs: null, ack: true });
				const r = await phase(server, jobs, n, `fanout-N${n}`);
				metrics[`N=${n}: delivery p50 ms`] = r.latency.p50;
				metrics[`N=${n}: delivery p99 ms`] = r.latency.p99;
				if (kind === 'ensemble') {
					metrics[`N=${n}: Ensemble store commit p99 ms (bucket ≤)`] = r.commitP99;
					metrics[`N=${n}: Ensemble append incl. wait p99 ms (bucket ≤)`] = r.appendP99;
				}
				metrics[`N=${n}: undelivered %`] = (100 * r.undelivered) / Math.max(1, r.expected);
				metrics[`N=${n}: server CPU µs per delivered edit`] =
					r.serverCpuUs / Math.max(1, r.expected);
				metrics[`N=${n}: awareness messages per reader per s`] =
					(r.awarenessUpdates / n / durationMs) * 1000;
				metrics[`N=${n}: load generators' CPU (cores)`] = r.clientCores;
				if (r.latency.p99 <= 50) best = n;
				if (r.latency.p99 > 1000) break; // far past the goal: larger N only takes longer
			} finally {
				await server.close();
			}
		}
		metrics['largest N with p99 ≤ 50 ms'] = best;
		return metrics;
	}
};
