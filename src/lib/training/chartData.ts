// Turns several runs' metric points into uPlot's aligned columns: one x column
// (the union of steps) and one column per (run, metric), null where a run has no
// point at that step. Each metric has its own color; each run its own dash pattern.

import type { MetricPoint } from '$shared/training.ts';

export interface ChartRun {
	readonly id: string;
	readonly name: string;
	/** The run's line style (RUN_DASHES[i]); null: solid. */
	readonly dash: readonly number[] | null;
}

/** Runs on the line chart are told apart by these (solid first); its overlay limit is their count. */
export const RUN_DASHES: ReadonlyArray<readonly number[] | null> = [
	null,
	[10, 5],
	[2, 4],
	[12, 4, 2, 4],
	[5, 5],
	[1, 8]
];

const METRIC_COLORS: Record<string, string> = {
	loss: '#1f77b4',
	val_loss: '#ff7f0e',
	accuracy: '#2ca02c',
	val_accuracy: '#d62728'
};
const OTHER_COLORS = ['#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/** A metric's color on the chart: the usual four fixed, a script's own by their order. */
export function metricColor(metric: string, all: readonly string[]): string {
	const fixed = METRIC_COLORS[metric];
	if (fixed) return fixed;
	const own = all.filter((m) => !(m in METRIC_COLORS));
	return OTHER_COLORS[Math.max(0, own.indexOf(metric)) % OTHER_COLORS.length] ?? '#555';
}

export interface SeriesInfo {
	readonly run: string;
	readonly metric: string;
	readonly label: string;
	/** The metric's color. */
	readonly color: string;
	/** The run's dash pattern (null: solid). */
	readonly dash: readonly number[] | null;
	/** Losses on the left axis, accuracies (0..1) on the right. */
	readonly scale: 'loss' | 'acc';
}

export interface ChartData {
	readonly xs: number[];
	readonly columns: Array<Array<number | null>>;
	readonly series: SeriesInfo[];
}

/** What a series draws (its label and style): the same key, the same uPlot series. */
export function seriesKey(s: SeriesInfo): string {
	return JSON.stringify([s.label, s.color, s.dash, s.scale]);
}

/**
 * How many of the series drawn (`have`, by seriesKey) stay as they are for `want`:
 * the leading ones both share. The rest are removed and `want`'s added after them.
 */
export function keptSeries(have: readonly string[], want: readonly string[]): number {
	let kept = 0;
	while (kept < have.length && kept < want.length && have[kept] === want[kept]) kept++;
	return kept;
}

export function scaleOf(metric: string): 'loss' | 'acc' {
	return metric.includes('acc') ? 'acc' : 'loss';
}

const KNOWN = ['loss', 'val_loss', 'accuracy', 'val_accuracy'];

/** Every metric the runs report (the usual four first, then the scripts' own, by name). */
export function metricNames(
	points: Iterable<readonly MetricPoint[]>,
	kind: 'epoch' | 'batch'
): string[] {
	const names = new Set<string>();
	for (const list of points)
		for (const p of list) if (p.kind === kind) for (const k in p.values) names.add(k);
	const own = [...names].filter((n) => !KNOWN.includes(n)).sort();
	return [...KNOWN.filter((n) => names.has(n)), ...own];
}

export function buildChartData(
	runs: readonly ChartRun[],
	points: ReadonlyMap<string, readonly MetricPoint[]>,
	metrics: readonly string[],
	kind: 'epoch' | 'batch'
): ChartData {
	const steps = new Set<number>();
	const byRun = new Map<string, Map<number, Record<string, number>>>();
	for (const run of runs) {
		const map = new Map<number, Record<string, number>>();
		for (const p of points.get(run.id) ?? []) {
			if (p.kind !== kind) continue;
			// A script may report several lines for one step (loss, then its own metric).
			map.set(p.step, { ...map.get(p.step), ...p.values });
			steps.add(p.step);
		}
		byRun.set(run.id, map);
	}
	const xs = [...steps].sort((a, b) => a - b);
	const series: SeriesInfo[] = [];
	const columns: Array<Array<number | null>> = [];
	for (const run of runs) {
		const map = byRun.get(run.id);
		for (const metric of metrics) {
			const column = xs.map((x) => map?.get(x)?.[metric] ?? null);
			if (column.every((v) => v === null)) continue;
			series.push({
				run: run.id,
				metric,
				label: `${run.name} · ${metric}`,
				color: metricColor(metric, metrics),
				dash: run.dash,
				scale: scaleOf(metric)
			});
			columns.push(column);
		}
	}
	return { xs, columns, series };
}
