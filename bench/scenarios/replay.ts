// Scenario 1: trace replay, one writer to one reader, as fast as possible (with a
// window of operations in flight) and paced.

import type { ReplayJob, ReplayResult } from '../load/jobs.ts';
import { LoadProc, startServer } from '../lib/proc.ts';
import { prepareRooms } from '../lib/rooms.ts';
import { latency } from '../lib/stats.ts';
import type { TraceName } from '../lib/trace.ts';
import type { ServerKind } from '../servers/types.ts';
import { ALL, MB, type BenchConfig, type Metrics, type Scenario } from './types.ts';

interface Case {
	readonly trace: TraceName;
	readonly rate: number | null;
	readonly maxOps: number;
	readonly maxMs: number;
}

function cases(quick: boolean): Case[] {
	const all = Number.POSITIVE_INFINITY;
	return quick
		? [
				{ trace: 'sveltecomponent', rate: null, maxOps: all, maxMs: 3_000 },
				{ trace: 'sveltecomponent', rate: 100, maxOps: all, maxMs: 2_000 }
			]
		: [
				{ trace: 'sveltecomponent', rate: null, maxOps: all, maxMs: 10_000 },
				{ trace: 'sveltecomponent', rate: 100, maxOps: all, maxMs: 5_000 },
				{ trace: 'automerge-paper', rate: null, maxOps: all, maxMs: 10_000 },
				{ trace: 'automerge-paper', rate: 100, maxOps: all, maxMs: 5_000 }
			];
}

export const replayScenario: Scenario = {
	id: 'replay',
	title: '1. Trace replay (one writer → one reader)',
	servers: ALL,
	async run(kind: ServerKind, config: BenchConfig): Promise<Metrics> {
		const server = await startServer(kind, { cpuProfDir: config.cpuProfDir ?? undefined });
		const metrics: Metrics = {};
		try {
			for (const c of cases(config.quick)) {
				const [ref] = await prepareRooms(server, 1);
				if (!ref) throw new Error('no room');
				const job: ReplayJob = {
					kind: 'replay',
					ref,
					trace: c.trace,
					rate: c.rate,
					window: 100,
					// Ensemble closes a connection that sends more than 200 messages/s beyond a
					// burst of 1,000 (relay LIMIT): its writer stays under that.
					bucket: kind === 'ensemble' ? { rate: 195, burst: 900 } : null,
					maxOps: Number.isFinite(c.maxOps) ? c.maxOps : 1e9,
					maxMs: c.maxMs
				};
				const proc = new LoadProc<ReplayResult>(job, c.maxMs + 90_000);
				await proc.mark('ready');
				const before = await server.sample();
				await server.profileStart();
				proc.release('ready');
				await proc.mark('measured');
				const after = await server.sample();
				await server.profileStop(`replay-${c.trace}-${c.rate ?? 'max'}`);
				proc.release('measured');
				const result = await proc.result;
				const lat = latency(result.samples);
				const label = `${c.trace} ${c.rate === null ? 'max rate' : `paced ${c.rate}/s`}`;
				const cpuUs = after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs;
				metrics[`${label}: ops/s`] = (result.ops / result.elapsedMs) * 1000;
				metrics[`${label}: delivery p50 ms`] = lat.p50;
				metrics[`${label}: delivery p99 ms`] = lat.p99;
				metrics[`${label}: server CPU µs/op`] = cpuUs / result.ops;
				// System time is mostly fsync and socket writes: what durability costs.
				metrics[`${label}: of which system µs/op`] =
					(after.cpuSystemUs - before.cpuSystemUs) / result.ops;
				metrics[`${label}: ops replayed one by one`] = result.ops;
				metrics[`${label}: final text = endContent (1 = yes)`] = result.textOk ? 1 : 0;
			}
			metrics['server peak RSS MB'] = (await server.sample()).vmHWM / MB;
		} finally {
			await server.close();
		}
		return metrics;
	}
};
