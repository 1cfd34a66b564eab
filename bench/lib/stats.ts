// Percentiles of one run, and the median/min/max spread across runs.

export interface Latency {
	readonly n: number;
	readonly p50: number;
	readonly p95: number;
	readonly p99: number;
	readonly max: number;
}

export interface Spread {
	readonly median: number;
	readonly min: number;
	readonly max: number;
	readonly runs: number;
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
	if (sorted.length === 0) return Number.NaN;
	const rank = Math.ceil((p / 100) * sorted.length) - 1;
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

export function latency(samples: readonly number[]): Latency {
	const sorted = Float64Array.from(samples).sort();
	const arr = Array.from(sorted);
	return {
		n: arr.length,
		p50: percentile(arr, 50),
		p95: percentile(arr, 95),
		p99: percentile(arr, 99),
		max: arr.length ? (arr[arr.length - 1] ?? Number.NaN) : Number.NaN
	};
}

/** Median with min and max over runs, ignoring runs that produced no number (∞ counts). */
export function spread(values: readonly number[]): Spread {
	const finite = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
	if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 };
	const mid = finite.length >> 1;
	const median =
		finite.length % 2 ? (finite[mid] ?? 0) : ((finite[mid - 1] ?? 0) + (finite[mid] ?? 0)) / 2;
	return { median, min: finite[0] ?? 0, max: finite[finite.length - 1] ?? 0, runs: finite.length };
}

/** Wall-clock milliseconds comparable across processes on this machine. */
export function nowMs(): number {
	return performance.timeOrigin + performance.now();
}
