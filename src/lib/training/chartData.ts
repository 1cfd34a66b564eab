// Turns several runs' metric points into uPlot's aligned columns: one x column
// (the union of steps) and one column per (run, metric), null where a run has no
// point at that step.

import type { MetricPoint } from '$shared/training.ts';

export interface ChartRun {
	readonly id: string;
	readonly name: string;
	readonly color: string;
}

export interface SeriesInfo {
	readonly run: string;
	readonly metric: string;
	readonly label: string;
	readonly color: string;
	/** Validation metrics are dashed. */
	readonly dashed: boolean;
	/** Losses on the left axis, accuracies (0..1) on the right. */
	readonly scale: 'loss' | 'acc';
}

export interface ChartData {
	readonly xs: number[];
	readonly columns: Array<Array<number | null>>;
	readonly series: SeriesInfo[];
}

export function scaleOf(metric: string): 'loss' | 'acc' {
	return metric.includes('acc') ? 'acc' : 'loss';
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
			map.set(p.step, p.values);
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
				color: run.color,
				dashed: metric.startsWith('val_'),
				scale: scaleOf(metric)
			});
			columns.push(column);
		}
	}
	return { xs, columns, series };
}
