// The built-in model: a one-hidden-layer MLP classifier trained with a plain loop
// (not model.fit), so the seed decides every shuffle and each batch reports its
// own loss and accuracy. Runs inside the worker; `train` takes a sink for points.

import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../protocol/random.ts';
import type { Hyperparameters, MetricPoint, RunSummary } from '../protocol/training.ts';

export function shuffled(values: readonly number[], random: () => number): number[] {
	const out = [...values];
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[out[i], out[j]] = [out[j] as number, out[i] as number];
	}
	return out;
}

/** Shuffles with the seed first, then takes the validation rows from the front. */
export function splitIndices(
	rows: number,
	validationSplit: number,
	random: () => number
): { train: number[]; validation: number[] } {
	const order = shuffled(
		Array.from({ length: rows }, (_, i) => i),
		random
	);
	const nVal =
		validationSplit > 0 ? Math.min(rows - 1, Math.max(1, Math.round(rows * validationSplit))) : 0;
	return { validation: order.slice(0, nVal), train: order.slice(nVal) };
}

function makeOptimizer(params: Hyperparameters): tf.Optimizer {
	switch (params.optimizer) {
		case 'sgd':
			return tf.train.sgd(params.learning_rate);
		case 'rmsprop':
			return tf.train.rmsprop(params.learning_rate);
		case 'adagrad':
			return tf.train.adagrad(params.learning_rate);
		case 'momentum':
			return tf.train.momentum(params.learning_rate, 0.9);
		case 'adam':
			return tf.train.adam(params.learning_rate);
	}
}

/**
 * Keeps the worker's CPU use near `share` of a core by resting between batches
 * (a blocking wait is fine: the worker has nothing else to do). On a loaded
 * machine this leaves CPU to the relay, whose delivery latency is the priority.
 */
export function cpuThrottle(share: number, now: () => number): () => void {
	if (share >= 1) return () => {};
	const rest = new Int32Array(new SharedArrayBuffer(4));
	let since = now();
	return () => {
		const busy = now() - since;
		if (busy < 20) return;
		Atomics.wait(rest, 0, 0, (busy * (1 - share)) / share);
		since = now();
	};
}

export interface TrainInput {
	readonly features: Float32Array;
	readonly labels: Int32Array;
	readonly numFeatures: number;
	readonly numClasses: number;
	readonly params: Hyperparameters;
	readonly maxBatchPoints: number;
	readonly cpuShare: number;
}

interface Split {
	readonly x: tf.Tensor2D;
	readonly y: tf.Tensor1D;
}

function gather(
	input: TrainInput,
	rows: readonly number[],
	mean: Float32Array,
	std: Float32Array
): Split {
	const n = input.numFeatures;
	const x = new Float32Array(rows.length * n);
	const y = new Int32Array(rows.length);
	for (const [i, r] of rows.entries()) {
		for (let f = 0; f < n; f++) {
			x[i * n + f] =
				((input.features[r * n + f] as number) - (mean[f] as number)) / (std[f] as number);
		}
		y[i] = input.labels[r] as number;
	}
	return { x: tf.tensor2d(x, [rows.length, n]), y: tf.tensor1d(y, 'int32') };
}

/** Mean and standard deviation of each feature over the training rows only. */
function standardize(
	input: TrainInput,
	rows: readonly number[]
): { mean: Float32Array; std: Float32Array } {
	const n = input.numFeatures;
	const sum = new Array<number>(n).fill(0);
	const squares = new Array<number>(n).fill(0);
	for (const r of rows) {
		for (let f = 0; f < n; f++) {
			const v = input.features[r * n + f] ?? 0;
			sum[f] = (sum[f] ?? 0) + v;
			squares[f] = (squares[f] ?? 0) + v * v;
		}
	}
	const mean = Float32Array.from(sum, (s) => s / rows.length);
	const std = Float32Array.from(squares, (sq, f) => {
		const m = mean[f] ?? 0;
		return Math.sqrt(Math.max(0, sq / rows.length - m * m)) || 1;
	});
	return { mean, std };
}

function lossAndAccuracy(
	logits: tf.Tensor2D,
	y: tf.Tensor1D,
	numClasses: number
): { loss: tf.Scalar; accuracy: tf.Scalar } {
	const loss = tf.losses.softmaxCrossEntropy<tf.Tensor2D, tf.Scalar>(
		tf.oneHot(y, numClasses) as tf.Tensor2D,
		logits
	);
	const accuracy = tf.mean<tf.Scalar>(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'));
	return { loss, accuracy };
}

/**
 * Trains and reports points to `emit` as it goes. Synchronous per batch by design:
 * it runs in a worker, and stopping is the worker being terminated.
 */
export interface TrainSink {
	started(train: number, validation: number): void;
	point(point: MetricPoint): void;
}

export function train(input: TrainInput, sink: TrainSink, now: () => number): RunSummary {
	const { params } = input;
	const random = seededRandom(params.seed);
	const rows = input.labels.length;
	const split = splitIndices(rows, params.validation_split, random);
	const { mean, std } = standardize(input, split.train);
	const trainSet = gather(input, split.train, mean, std);
	const valSet = split.validation.length > 0 ? gather(input, split.validation, mean, std) : null;

	const model = tf.sequential({
		layers: [
			tf.layers.dense({
				inputShape: [input.numFeatures],
				units: params.hidden_units,
				activation: 'relu',
				kernelInitializer: tf.initializers.glorotUniform({ seed: params.seed })
			}),
			tf.layers.dense({
				units: input.numClasses,
				kernelInitializer: tf.initializers.glorotUniform({ seed: params.seed + 1 })
			})
		]
	});
	const optimizer = makeOptimizer(params);
	sink.started(split.train.length, split.validation.length);
	const batchesPerEpoch = Math.ceil(split.train.length / params.batch_size);
	const stride = Math.max(1, Math.ceil((batchesPerEpoch * params.epochs) / input.maxBatchPoints));
	const start = now();
	const throttle = cpuThrottle(input.cpuShare, now);
	const summary: RunSummary = {
		epoch: 0,
		epochs: params.epochs,
		loss: null,
		accuracy: null,
		val_loss: null,
		val_accuracy: null,
		elapsed_ms: 0
	};
	let step = 0;
	for (let epoch = 1; epoch <= params.epochs; epoch++) {
		const order = tf.tensor1d(
			shuffled(
				Array.from({ length: split.train.length }, (_, i) => i),
				random
			),
			'int32'
		);
		let lossSum = 0;
		let correctSum = 0;
		for (let b = 0; b < batchesPerEpoch; b++) {
			const size = Math.min(params.batch_size, split.train.length - b * params.batch_size);
			const idx = order.slice(b * params.batch_size, size);
			const x = tf.gather(trainSet.x, idx);
			const y = tf.gather(trainSet.y, idx);
			let accuracy: tf.Scalar | null = null;
			// minimize() tidies what the closure allocates; keep() saves the accuracy from it.
			const loss = optimizer.minimize(() => {
				const out = lossAndAccuracy(model.apply(x) as tf.Tensor2D, y, input.numClasses);
				accuracy = tf.keep(out.accuracy);
				return out.loss;
			}, true);
			const lossValue = loss?.dataSync()[0] ?? NaN;
			const kept = accuracy as tf.Scalar | null;
			const accValue = kept?.dataSync()[0] ?? NaN;
			tf.dispose([idx, x, y]);
			loss?.dispose();
			kept?.dispose();
			throttle();
			lossSum += lossValue * size;
			correctSum += accValue * size;
			step++;
			if (step % stride === 0) {
				sink.point({
					kind: 'batch',
					step,
					epoch,
					elapsed_ms: now() - start,
					values: { loss: lossValue, accuracy: accValue }
				});
			}
		}
		order.dispose();
		const values: Record<string, number> = {
			loss: lossSum / split.train.length,
			accuracy: correctSum / split.train.length
		};
		if (valSet) {
			const [vl, va] = tf.tidy(() => {
				const out = lossAndAccuracy(
					model.apply(valSet.x) as tf.Tensor2D,
					valSet.y,
					input.numClasses
				);
				return [out.loss.dataSync()[0] ?? NaN, out.accuracy.dataSync()[0] ?? NaN];
			});
			values.val_loss = vl;
			values.val_accuracy = va;
		}
		const elapsed = now() - start;
		sink.point({ kind: 'epoch', step: epoch, epoch, elapsed_ms: elapsed, values });
		Object.assign(summary, {
			epoch,
			loss: values.loss,
			accuracy: values.accuracy,
			val_loss: values.val_loss ?? null,
			val_accuracy: values.val_accuracy ?? null,
			elapsed_ms: elapsed
		});
	}
	tf.dispose([trainSet.x, trainSet.y]);
	model.dispose();
	if (valSet) tf.dispose([valSet.x, valSet.y]);
	optimizer.dispose();
	return summary;
}
