// Runs parseCsv in a short-lived worker thread (see csvWorker.ts).

import { Worker } from 'node:worker_threads';
import type { CsvLimits, Table } from './csv.ts';
import type { ParseResult } from './hyperparameters.ts';

const WORKER_URL = new URL('./csvWorker.ts', import.meta.url);

export function parseCsvOffThread(
	bytes: Uint8Array,
	limits: CsvLimits
): Promise<ParseResult<Table>> {
	return new Promise((resolve, reject) => {
		const worker = new Worker(WORKER_URL, { workerData: { bytes, limits } });
		let result: ParseResult<Table> | null = null;
		worker.once('message', (message: ParseResult<Table>) => {
			result = message;
		});
		worker.once('error', reject);
		worker.once('exit', (code) => {
			if (result) resolve(result);
			else reject(new Error(`the CSV parsing worker exited with code ${code} without a result`));
		});
	});
}
