import { describe, expect, it } from 'vitest';
import {
	buildChartData,
	keptSeries,
	metricNames,
	seriesKey
} from '../../src/lib/training/chartData.ts';
import {
	codeChanges,
	distinguishingParams,
	lineDiff,
	paramChanges
} from '../../src/lib/training/diff.ts';
import { dashboardViewOf, sameView } from '../../src/lib/training/follow.ts';
import { paramValue } from '../../src/lib/training/format.ts';
import type { MetricPoint } from '../../server/protocol/training.ts';

const point = (
	step: number,
	values: Record<string, number>,
	kind: 'epoch' | 'batch' = 'epoch'
): MetricPoint => ({
	kind,
	step,
	epoch: step,
	elapsed_ms: step,
	values
});

describe('what the training panel shows', () => {
	it("[APPRUN4] the chart offers a script's own metrics after the usual four, and merges lines of one step", () => {
		const a = [point(1, { loss: 1 }), point(1, { penguin_score: 0.25 }), point(2, { zeta: 1 })];
		const b = [point(1, { val_accuracy: 0.5, accuracy: 0.4 }), point(3, { x: 1 }, 'batch')];
		expect(metricNames([a, b], 'epoch')).toEqual([
			'loss',
			'accuracy',
			'val_accuracy',
			'penguin_score',
			'zeta'
		]);
		const chart = buildChartData(
			[{ id: 'a', name: 'A', dash: null }],
			new Map([['a', a]]),
			['loss', 'penguin_score'],
			'epoch'
		);
		expect(chart.xs).toEqual([1, 2]);
		expect(chart.columns).toEqual([
			[1, null],
			[0.25, null]
		]);
	});

	it('[TRAIN7] the legend names the hyperparameters that set each run apart', () => {
		const diff = distinguishingParams([
			{ id: 'a', params: { learning_rate: 0.01, epochs: 50, seed: 1 } },
			{ id: 'b', params: { learning_rate: 0.1, epochs: 50, seed: 1 } },
			{ id: 'c', params: { learning_rate: 0.01, epochs: 50, seed: 2 } }
		]);
		expect(diff.get('a')).toEqual(['learning_rate=0.01', 'seed=1']);
		expect(diff.get('b')).toEqual(['learning_rate=0.1', 'seed=1']);
	});

	it('[APPDBG5] a followed person’s Dashboard view is read from their presence, and nonsense is dropped', () => {
		expect(
			dashboardViewOf({ dashboard: { zoom: { min: 2, max: 9.5 }, picked: ['r1', 'r2'] } })
		).toEqual({ zoom: { min: 2, max: 9.5 }, picked: ['r1', 'r2'] });
		// Another browser's word: a reversed or infinite range, ids that are not strings.
		expect(dashboardViewOf({ dashboard: { zoom: { min: 9, max: 2 }, picked: [1, 2] } })).toEqual({
			zoom: null,
			picked: null
		});
		expect(dashboardViewOf({ dashboard: { zoom: { min: 0, max: Infinity }, picked: [] } })).toEqual(
			{ zoom: null, picked: null }
		);
		expect(dashboardViewOf({ dashboard: 'zoomed' })).toBeNull();
		expect(dashboardViewOf({})).toBeNull();
		const many = Array.from({ length: 500 }, (_, i) => `r${i}`);
		expect(dashboardViewOf({ dashboard: { picked: many } })?.picked).toHaveLength(200);
		expect(sameView({ zoom: null, picked: ['a'] }, { zoom: null, picked: ['a'] })).toBe(true);
		expect(sameView({ zoom: null, picked: ['a'] }, null)).toBe(false);
	});

	it('[TRAIN7] [RUNTABLE1] hyperparameters show as people write them: four significant digits, integers whole', () => {
		expect(paramValue(1 / 30)).toBe('0.03333');
		expect(paramValue(59 / 30)).toBe('1.967');
		expect(paramValue(0.001)).toBe('0.001');
		expect(paramValue(64)).toBe('64');
		expect(paramValue(1e-7)).toBe('1e-7');
		const diff = distinguishingParams([
			{ id: 'a', params: { learning_rate: 1 / 30 } },
			{ id: 'b', params: { learning_rate: 2 / 30 } }
		]);
		expect(diff.get('b')).toEqual(['learning_rate=0.06667']);
		expect(paramChanges({ momentum: 0.9 }, { momentum: 2 / 3 })).toEqual([
			{ key: 'momentum', before: '0.9', after: '0.6667' }
		]);
	});

	it('[TRAIN7] a run detail shows param and code changes from the run before', () => {
		expect(paramChanges({ lr: 0.1, a: 1 }, { lr: 0.2, a: 1, b: true })).toEqual([
			{ key: 'b', before: '—', after: 'true' },
			{ key: 'lr', before: '0.1', after: '0.2' }
		]);
		expect(lineDiff('a\nb\nc', 'a\nx\nc')).toEqual([
			{ kind: 'same', text: 'a' },
			{ kind: 'added', text: 'x' },
			{ kind: 'removed', text: 'b' },
			{ kind: 'same', text: 'c' }
		]);
		expect(
			codeChanges({ 'a.py': '1', 'b.py': '2' }, { 'a.py': '1', 'b.py': '3' }).map((c) => c.file)
		).toEqual(['b.py']);
	});

	it('[TRAIN2] [RUNTABLE6] runs of different lengths overlay on one x axis, with gaps as nulls; a color per metric, a dash per run', () => {
		const chart = buildChartData(
			[
				{ id: 'a', name: 'A', dash: null },
				{ id: 'b', name: 'B', dash: [10, 5] }
			],
			new Map([
				[
					'a',
					[
						point(1, { loss: 1, val_loss: 2 }),
						point(2, { loss: 0.5 }),
						point(9, { loss: 9 }, 'batch')
					]
				],
				['b', [point(1, { loss: 0.8 }), point(3, { loss: 0.2 })]]
			]),
			['loss', 'val_loss'],
			'epoch'
		);
		expect(chart.xs).toEqual([1, 2, 3]);
		// [RUNTABLE6] each metric has its own color; runs differ by dash pattern.
		expect(chart.series.map((s) => [s.label, s.color, s.dash, s.scale])).toEqual([
			['A · loss', '#1f77b4', null, 'loss'],
			['A · val_loss', '#ff7f0e', null, 'loss'],
			['B · loss', '#1f77b4', [10, 5], 'loss']
		]);
		expect(chart.columns).toEqual([
			[1, 0.5, null],
			[2, null, null],
			[0.8, null, 0.2]
		]);
	});

	it("[RUNTABLE9] as runs' points arrive the chart keeps the series it has and adds the rest after them", () => {
		const runs = [
			{ id: 'a', name: 'A', dash: null },
			{ id: 'b', name: 'B', dash: [10, 5] }
		];
		const keys = (points: Map<string, MetricPoint[]>, metrics = ['loss', 'val_loss']) =>
			buildChartData(runs, points, metrics, 'epoch').series.map(seriesKey);
		const none = keys(new Map());
		const onlyB = keys(new Map([['b', [point(1, { loss: 0.8 })]]]));
		const both = keys(
			new Map([
				['a', [point(1, { loss: 1, val_loss: 2 })]],
				['b', [point(1, { loss: 0.8 })]]
			])
		);
		expect(none).toEqual([]);
		expect(keptSeries(none, onlyB)).toBe(0);
		// A's series come first: B's goes and comes back after them.
		expect(both).toHaveLength(3);
		expect(keptSeries(onlyB, both)).toBe(0);
		expect(keptSeries(both, both)).toBe(3);
		// A metric hidden: the series before it stay.
		const lossOnly = keys(
			new Map([
				['a', [point(1, { loss: 1, val_loss: 2 })]],
				['b', [point(1, { loss: 0.8 })]]
			]),
			['loss']
		);
		expect(keptSeries(both, lossOnly)).toBe(1);
		// Another color or dash is another series.
		expect(keptSeries(both, [...both.slice(0, 2), both[2]!.replace('10,5', '2,4')])).toBe(2);
	});
});
