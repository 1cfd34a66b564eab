import { describe, expect, it } from 'vitest';
import { DEFAULT_HYPERPARAMETERS } from '../../server/protocol/docs.ts';
import type { MetricPoint } from '../../server/protocol/training.ts';
import { irisTable, toTrainingData } from '../../server/training/datasets.ts';
import { parseHyperparameters } from '../../server/training/hyperparameters.ts';
import { seededRandom } from '../../server/protocol/random.ts';
import { splitIndices } from '../../server/training/model.ts';
import { startWorker } from '../../server/training/runner.ts';
import type { WorkerInput } from '../../server/training/workerProtocol.ts';

function irisInput(overrides: Partial<WorkerInput['params']> = {}): WorkerInput {
	const data = toTrainingData(irisTable(), 'species');
	if (!data.ok) throw new Error(data.message);
	return {
		features: data.value.features,
		labels: data.value.labels,
		numFeatures: 4,
		numClasses: 3,
		params: { ...DEFAULT_HYPERPARAMETERS, ...overrides },
		maxBatchPoints: 2000,
		cpuShare: 1,
		postIntervalMs: 20
	};
}

async function trainIris(overrides: Partial<WorkerInput['params']> = {}) {
	const points: MetricPoint[] = [];
	let messages = 0;
	const handle = startWorker(irisInput(overrides), {
		started() {},
		points(p) {
			messages++;
			points.push(...p);
		}
	});
	return { outcome: await handle.done, points, messages };
}

describe('the training worker', () => {
	it('[TRAIN1] trains an MLP on Iris in a worker to well above chance, reporting per batch and epoch', async () => {
		const { outcome, points, messages } = await trainIris({ epochs: 30 });
		expect(outcome.status).toBe('completed');
		if (outcome.status !== 'completed') return;
		expect(outcome.summary.epoch).toBe(30);
		expect(outcome.summary.val_accuracy).toBeGreaterThan(0.7); // chance is 1/3
		const epochs = points.filter((p) => p.kind === 'epoch');
		expect(epochs.map((p) => p.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
		expect(Object.keys(epochs[0]?.values ?? {}).sort()).toEqual([
			'accuracy',
			'loss',
			'val_accuracy',
			'val_loss'
		]);
		// 120 training rows in batches of 16: 8 batches per epoch.
		expect(points.filter((p) => p.kind === 'batch')).toHaveLength(240);
		expect(epochs[29]?.elapsed_ms).toBeGreaterThan(epochs[0]?.elapsed_ms ?? Infinity);
		// Buffered: far fewer messages than points.
		expect(messages).toBeLessThan(points.length / 4);
	});

	it('[TRAIN9] the same seed gives the same split and the same curve; another seed does not', async () => {
		const a = splitIndices(150, 0.2, seededRandom(7));
		expect(a.validation).toHaveLength(30);
		expect(splitIndices(150, 0.2, seededRandom(7))).toEqual(a);
		expect(splitIndices(150, 0.2, seededRandom(8)).validation).not.toEqual(a.validation);
		// Shuffled before the split: Iris is sorted by class, so an unshuffled split would hold one class.
		const classes = new Set(a.validation.map((i) => Math.floor(i / 50)));
		expect(classes.size).toBe(3);
		const [one, two] = await Promise.all([trainIris({ epochs: 3 }), trainIris({ epochs: 3 })]);
		const losses = (r: typeof one) =>
			r.points.filter((p) => p.kind === 'epoch').map((p) => p.values.loss);
		expect(losses(one)).toEqual(losses(two));
	});

	it('[TRAIN5] stop terminates the worker mid-run', async () => {
		let first: () => void = () => {};
		const started = new Promise<void>((resolve) => (first = resolve));
		const handle = startWorker(irisInput({ epochs: 5000 }), {
			started() {},
			points: () => first()
		});
		await started;
		await handle.stop();
		expect(await handle.done).toEqual({ status: 'stopped' });
	});

	it('[TRAIN10] bad hyperparameters are refused with the name and the value', () => {
		const bad = parseHyperparameters({ learning_rate: 'fast' });
		expect(bad.ok ? '' : bad.message).toBe(
			'learning_rate must be a number greater than 0 and at most 10; the workspace has "fast"'
		);
		const opt = parseHyperparameters({ optimizer: 'lbfgs' });
		expect(opt.ok ? '' : opt.message).toMatch(/optimizer must be one of adam, sgd/);
		const good = parseHyperparameters({ batch_size: '32', epochs: 3 });
		expect(good.ok && good.value).toEqual({
			...DEFAULT_HYPERPARAMETERS,
			batch_size: 32,
			epochs: 3
		});
	});
});
