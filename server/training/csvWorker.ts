// Parses an uploaded CSV off the main thread: csv-parse takes seconds on a large
// file, and the relay's event loop must not wait for it. Numeric columns come back
// as transferred Float64Arrays.

import { parentPort, workerData } from 'node:worker_threads';
import { parseCsv, type CsvLimits } from './csv.ts';
import { yieldCpuToRelay } from './lowPriority.ts';

yieldCpuToRelay();

const { bytes, limits } = workerData as { bytes: Uint8Array; limits: CsvLimits };
const result = parseCsv(bytes, limits);
const transfer = result.ok
	? result.value.values.flatMap((column) =>
			column instanceof Float64Array ? [column.buffer as ArrayBuffer] : []
		)
	: [];
parentPort?.postMessage(result, transfer);
