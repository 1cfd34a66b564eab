import { describe, expect, it } from 'vitest';
import { buildChartData } from '../../src/lib/training/chartData.ts';
import {
	codeChanges,
	distinguishingParams,
	lineDiff,
	paramChanges
} from '../../src/lib/training/diff.ts';
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
	it('[TRAIN7] the legend names the hyperparameters that set each run apart', () => {
		const diff = distinguishingParams([
			{ id: 'a', params: { learning_rate: 0.01, epochs: 50, seed: 1 } },
			{ id: 'b', params: { learning_rate: 0.1, epochs: 50, seed: 1 } },
			{ id: 'c', params: { learning_rate: 0.01, epochs: 50, seed: 2 } }
		]);
		expect(diff.get('a')).toEqual(['learning_rate=0.01', 'seed=1']);
		expect(diff.get('b')).toEqual(['learning_rate=0.1', 'seed=1']);
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

	it('[TRAIN2] runs of different lengths overlay on one x axis, with gaps as nulls', () => {
		const chart = buildChartData(
			[
				{ id: 'a', name: 'A', color: 'red' },
				{ id: 'b', name: 'B', color: 'blue' }
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
		expect(chart.series.map((s) => [s.label, s.dashed, s.scale])).toEqual([
			['A · loss', false, 'loss'],
			['A · val_loss', true, 'loss'],
			['B · loss', false, 'loss']
		]);
		expect(chart.columns).toEqual([
			[1, 0.5, null],
			[2, null, null],
			[0.8, null, 0.2]
		]);
	});
});
