// `npm run soak -- --seeds=1000 [--from=1] [--faults=2] [--writers=3]`: the
// fault suite's convergence fuzz (tests/faults/scenario.ts) for the long run,
// every fault kind including SIGKILL. Prints every seed, then the seeds that
// converged, faults by kind, acknowledged updates lost (must be 0) and the time
// to recover; exits 1 if any seed failed or anything was lost. Needs PostgreSQL
// and Redis as the tests do.

import { parseArgs } from 'node:util';
import {
	describeSeed,
	describeSummary,
	FAULT_KINDS,
	FaultBench,
	summarize,
	type SeedResult
} from '../tests/faults/scenario.ts';
import { servicesAvailable } from '../tests/helpers/services.ts';

const { values } = parseArgs({
	options: {
		seeds: { type: 'string', default: '1000' },
		from: { type: 'string', default: '1' },
		faults: { type: 'string', default: '2' },
		writers: { type: 'string', default: '3' }
	}
});
const count = Number(values.seeds);
const from = Number(values.from);
const faults = Number(values.faults);
const writers = Number(values.writers);
for (const [name, n] of Object.entries({ seeds: count, from, faults, writers })) {
	if (!Number.isInteger(n) || n < 1) {
		console.error(`--${name} must be a positive whole number`);
		process.exit(2);
	}
}
if (!(await servicesAvailable('npm run soak'))) process.exit(1);

const started = Date.now();
const bench = await FaultBench.start();
const results: SeedResult[] = [];
try {
	for (let seed = from; seed < from + count; seed++) {
		const result = await bench.runSeed(seed, { kinds: FAULT_KINDS, faults, writers });
		console.log(describeSeed(result));
		results.push(result);
	}
} finally {
	await bench.close();
}
const summary = summarize(results);
console.log(`\n${describeSummary(summary)}`);
console.log(`took ${Math.round((Date.now() - started) / 1000)} s`);
const ok =
	summary.failedSeeds.length === 0 && summary.ackedLost === 0 && summary.receivedLost === 0;
process.exit(ok ? 0 : 1);
