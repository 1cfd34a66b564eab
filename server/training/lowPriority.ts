// Worker threads (training, CSV parsing) run at the lowest CPU priority, so they
// take what the relay's event loop leaves over instead of competing with it.

import { setPriority } from 'node:os';

/**
 * On Linux a nice value is per thread, and pid 0 means the calling thread: called
 * inside a worker, this lowers that worker only, never the relay's thread. Where
 * it is not permitted the worker just runs at normal priority.
 */
export function yieldCpuToRelay(): void {
	try {
		setPriority(0, 19);
	} catch (_err) {
		// Not permitted here: the work still runs, only without the courtesy.
	}
}
