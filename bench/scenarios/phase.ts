// Runs several `clients` load processes as one measured phase: all connect, the
// server is sampled, all start at once, the server is sampled again.

import type { ClientsJob, ClientsResult } from '../load/jobs.ts';
import { LoadProc, type ServerHandle } from '../lib/proc.ts';
import { latency, nowMs, type Latency } from '../lib/stats.ts';
import type { ServerSample } from '../servers/types.ts';
import { storeBuckets, storeQuantileMs } from '../lib/storeLatency.ts';

export interface PhaseResult {
	readonly latency: Latency;
	/** Deliveries expected (stamps sent × clients that should see them) but not seen. */
	readonly undelivered: number;
	readonly expected: number;
	readonly sent: number;
	readonly awarenessUpdates: number;
	readonly serverCpuUs: number;
	/** Load processes' CPU over wall time, summed (1 = one core busy). */
	readonly clientCores: number;
	readonly connected: ServerSample;
	readonly after: ServerSample;
	/** Ensemble: its store commits during the phase, p50 and p99 (bucket bounds, ms). */
	readonly commitP50: number;
	readonly commitP99: number;
	/** Ensemble: a whole appendUpdates call (waiting for its group commit included), p99 ms. */
	readonly appendP99: number;
}

export async function phase(
	server: ServerHandle,
	jobs: readonly ClientsJob[],
	/** How many clients see each writer's stamp (readers + other writers in its room). */
	seenBy: number,
	/** Names the CPU profile of this phase (with --profile). */
	label: string,
	onConnected?: () => Promise<void>
): Promise<PhaseResult> {
	const longest = Math.max(...jobs.map((j) => j.durationMs));
	const procs = jobs.map((job) => new LoadProc<ClientsResult>(job, longest + 180_000));
	try {
		await Promise.all(procs.map((p) => p.mark('connected')));
		await onConnected?.();
		const connected = await server.sample(true);
		const bucketsBefore = await storeBuckets(server);
		await server.profileStart();
		const from = nowMs() + 100;
		for (const p of procs) p.release('connected', { from });
		const results = await Promise.all(procs.map((p) => p.result));
		const after = await server.sample();
		await server.profileStop(label);
		const bucketsAfter = await storeBuckets(server);
		const samples = results.flatMap((r) => r.samples);
		const sent = results.reduce((a, r) => a + r.sent, 0);
		const expected = sent * seenBy;
		const undelivered = Math.max(0, expected - samples.length);
		// A stamp that never arrived counts as slower than any that did.
		for (let i = 0; i < undelivered; i++) samples.push(Number.POSITIVE_INFINITY);
		return {
			latency: latency(samples),
			undelivered,
			expected,
			sent,
			awarenessUpdates: results.reduce((a, r) => a + r.awarenessUpdates, 0),
			serverCpuUs:
				after.cpuUserUs + after.cpuSystemUs - connected.cpuUserUs - connected.cpuSystemUs,
			clientCores: results.reduce((a, r) => a + r.clientCpuUs / 1000 / r.wallMs, 0),
			connected,
			after,
			commitP50: storeQuantileMs(bucketsBefore, bucketsAfter, 'commit', 0.5),
			commitP99: storeQuantileMs(bucketsBefore, bucketsAfter, 'commit', 0.99),
			appendP99: storeQuantileMs(bucketsBefore, bucketsAfter, 'append', 0.99)
		};
	} finally {
		for (const p of procs) p.kill();
	}
}

/** Splits `count` clients of one room into jobs of at most `perProcess`. */
export function split(count: number, perProcess: number): number[] {
	const procs = Math.max(1, Math.ceil(count / perProcess));
	return Array.from(
		{ length: procs },
		(_, i) => Math.floor(count / procs) + (i < count % procs ? 1 : 0)
	);
}
