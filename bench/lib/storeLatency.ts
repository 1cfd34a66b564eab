// Ensemble's own account of how long durable writes take: the
// ensemble_store_latency_seconds histogram on /metrics, read before and after a
// phase. Delivery waits for the store (stored before relayed), so this says how
// much of a delivery time is the disk.

import type { ServerHandle } from './proc.ts';

export type Buckets = Map<string, Map<number, number>>;

/** Cumulative bucket counts per `op` label. */
export async function storeBuckets(server: ServerHandle): Promise<Buckets> {
	const out: Buckets = new Map();
	if (server.kind !== 'ensemble') return out;
	const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
	for (const line of text.split('\n')) {
		if (!line.startsWith('ensemble_store_latency_seconds_bucket{')) continue;
		const le = /le="([^"]+)"/.exec(line)?.[1];
		const op = /op="([^"]+)"/.exec(line)?.[1] ?? '';
		if (!le) continue;
		const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
		const count = Number(line.slice(line.lastIndexOf(' ') + 1));
		let byBound = out.get(op);
		if (!byBound) out.set(op, (byBound = new Map<number, number>()));
		byBound.set(bound, count);
	}
	return out;
}

/** Upper bucket bound (ms) below which `q` of the writes between the two readings fell. */
export function storeQuantileMs(before: Buckets, after: Buckets, op: string, q: number): number {
	const a = after.get(op);
	if (!a) return Number.NaN;
	const b = before.get(op);
	const bounds = [...a.keys()].sort((x, y) => x - y);
	const total = (a.get(Number.POSITIVE_INFINITY) ?? 0) - (b?.get(Number.POSITIVE_INFINITY) ?? 0);
	if (total <= 0) return Number.NaN;
	for (const bound of bounds) {
		const n = (a.get(bound) ?? 0) - (b?.get(bound) ?? 0);
		if (n >= q * total) return bound * 1000;
	}
	return Number.POSITIVE_INFINITY;
}
