// Scenario 3: rooms of 4 editors typing 5 keys/s with moving cursors; add rooms
// until delivery p99 passes 100 ms; memory per room and per connection (server
// RSS and heap after GC, connected and idle, over an empty server).

import type { ClientsJob } from '../load/jobs.ts';
import { startServer } from '../lib/proc.ts';
import { prepareRooms } from '../lib/rooms.ts';
import type { ServerKind } from '../servers/types.ts';
import { phase } from './phase.ts';
import { ALL, type BenchConfig, type Metrics, type Scenario } from './types.ts';

const EDITORS = 4;
const KB = 1024;

export const roomsScenario: Scenario = {
	id: 'rooms',
	title: '3. Many rooms (4 editors per room, 5 keys/s each, moving cursors)',
	servers: ALL,
	async run(kind: ServerKind, config: BenchConfig): Promise<Metrics> {
		const steps = config.quick ? [30] : [25, 50, 100, 150, 200, 300];
		const durationMs = config.quick ? 4_000 : 8_000;
		const metrics: Metrics = {};
		let best = 0;
		for (const rooms of steps) {
			const server = await startServer(kind, { cpuProfDir: config.cpuProfDir ?? undefined });
			try {
				const refs = await prepareRooms(server, rooms);
				const empty = await server.sample(true);
				// Two load processes, each with whole rooms.
				const halves = [refs.slice(0, rooms >> 1), refs.slice(rooms >> 1)].filter((h) => h.length);
				const jobs: ClientsJob[] = halves.map((part) => ({
					kind: 'clients',
					rooms: part,
					clientsPerRoom: EDITORS,
					writersPerRoom: EDITORS,
					rate: 5,
					cursor: true,
					presence: true,
					renewAtMs: null,
					durationMs,
					connectBatch: 40,
					ack: true
				}));
				const r = await phase(server, jobs, EDITORS - 1, `rooms-${rooms}`);
				const rss = r.connected.rss - empty.rss;
				const heap = r.connected.heapUsed + r.connected.external - empty.heapUsed - empty.external;
				metrics[`${rooms} rooms: delivery p50 ms`] = r.latency.p50;
				metrics[`${rooms} rooms: delivery p99 ms`] = r.latency.p99;
				if (kind === 'ensemble') {
					metrics[`${rooms} rooms: Ensemble store commit p50 ms (bucket ≤)`] = r.commitP50;
					metrics[`${rooms} rooms: Ensemble store commit p99 ms (bucket ≤)`] = r.commitP99;
					metrics[`${rooms} rooms: Ensemble append incl. wait p99 ms (bucket ≤)`] = r.appendP99;
				}
				metrics[`${rooms} rooms: undelivered %`] = (100 * r.undelivered) / Math.max(1, r.expected);
				metrics[`${rooms} rooms: load generators' CPU (cores)`] = r.clientCores;
				metrics[`${rooms} rooms: RSS per room KB`] = rss / rooms / KB;
				metrics[`${rooms} rooms: heap+external per connection KB`] = heap / (rooms * EDITORS) / KB;
				metrics[`${rooms} rooms: server CPU %`] = (100 * r.serverCpuUs) / 1000 / (durationMs + 300);
				if (r.latency.p99 <= 100) best = rooms;
				else break;
			} finally {
				await server.close();
			}
		}
		metrics['most rooms with p99 ≤ 100 ms'] = best;
		return metrics;
	}
};
