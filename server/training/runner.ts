// Runs one training job in a worker thread, so TensorFlow.js never blocks the
// relay's event loop. Stopping terminates the worker: a batch in progress cannot be
// interrupted any other way, and nothing in the worker needs cleaning up.

import { Worker } from 'node:worker_threads';
import type { MetricPoint, RunSummary } from '../protocol/training.ts';
import type { WorkerInput, WorkerMessage } from './workerProtocol.ts';

export type RunOutcome =
	| { readonly status: 'completed'; readonly summary: RunSummary }
	| { readonly status: 'failed'; readonly message: string }
	| { readonly status: 'stopped' };

export interface RunnerEvents {
	started(train: number, validation: number): void;
	points(points: MetricPoint[]): void;
}

export interface RunnerHandle {
	/** Resolves once the worker has ended, with how it ended; never rejects. */
	readonly done: Promise<RunOutcome>;
	/** Terminates the worker; `done` then resolves with `stopped` (unless it had already ended). */
	stop(): Promise<void>;
}

const WORKER_URL = new URL('./worker.ts', import.meta.url);

export function startWorker(input: WorkerInput, events: RunnerEvents): RunnerHandle {
	const worker = new Worker(WORKER_URL, {
		workerData: input,
		transferList: [input.features.buffer as ArrayBuffer, input.labels.buffer as ArrayBuffer]
	});
	let outcome: RunOutcome | null = null;
	let stopping = false;
	const done = new Promise<RunOutcome>((resolve) => {
		const end = (result: RunOutcome): void => {
			outcome ??= result;
			resolve(outcome);
		};
		worker.on('message', (message: WorkerMessage) => {
			switch (message.type) {
				case 'started':
					events.started(message.train, message.validation);
					break;
				case 'points':
					events.points(message.points);
					break;
				case 'done':
					outcome ??= { status: 'completed', summary: message.summary };
					break;
				case 'error':
					outcome ??= { status: 'failed', message: message.message };
					break;
			}
		});
		worker.on('error', (err: Error) => {
			outcome ??= { status: 'failed', message: `the training worker crashed: ${err.message}` };
		});
		worker.on('exit', (code) => {
			if (stopping) end({ status: 'stopped' });
			else
				end(
					outcome ?? { status: 'failed', message: `the training worker exited with code ${code}` }
				);
		});
	});
	return {
		done,
		async stop() {
			if (outcome) return;
			stopping = true;
			await worker.terminate();
			await done;
		}
	};
}
