// The training worker's entry: runs one training job from workerData and posts
// its progress to the runner. Buffered so a fast run does not post per batch.

import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { yieldCpuToRelay } from './lowPriority.ts';
import { train } from './model.ts';
import type { MetricPoint } from '../protocol/training.ts';
import type { WorkerInput, WorkerMessage } from './workerProtocol.ts';

// Production mode turns off tfjs's debug checks and its console hint to install
// tfjs-node (which cannot install here and would only clutter the server's logs).
tf.enableProdMode();

yieldCpuToRelay();

function post(message: WorkerMessage): void {
	parentPort?.postMessage(message);
}

async function main(input: WorkerInput): Promise<void> {
	await tf.setBackend('cpu');
	let buffer: MetricPoint[] = [];
	let lastPost = performance.now();
	const flush = (): void => {
		if (buffer.length === 0) return;
		post({ type: 'points', points: buffer });
		buffer = [];
		lastPost = performance.now();
	};
	const summary = train(
		input,
		{
			started: (trainRows, validation) => post({ type: 'started', train: trainRows, validation }),
			point: (point) => {
				buffer.push(point);
				if (performance.now() - lastPost >= input.postIntervalMs) flush();
			}
		},
		() => performance.now()
	);
	flush();
	post({ type: 'done', summary });
}

main(workerData as WorkerInput).catch((err: unknown) => {
	post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
});
