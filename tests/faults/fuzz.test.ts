// The seeded convergence fuzz across two processes (issue 11): 50 seeds in
// `npm test`, each one fault drawn from every kind that heals in place (a
// SIGKILL needs a new process, about 10 s here: the soak, `npm run soak`,
// draws it too). Every seed is printed; replay one with FAULT_SEED=n.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servicesAvailable } from '../helpers/services.ts';
import {
	describeSeed,
	describeSummary,
	FAULT_KINDS,
	FaultBench,
	summarize,
	type SeedResult
} from './scenario.ts';

const SEEDS = process.env.FAULT_SEED ? [Number(process.env.FAULT_SEED)] : range(1, 50);
const KINDS = FAULT_KINDS.filter((k) => k !== 'sigkill');

function range(from: number, to: number): number[] {
	return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

let bench: FaultBench | null = null;
beforeAll(async () => {
	if (await servicesAvailable('tests/faults/fuzz.test.ts')) bench = await FaultBench.start();
}, 90_000);
afterAll(async () => {
	await bench?.close();
}, 60_000);

describe('convergence under faults', () => {
	it(
		`[FAULT3] ${SEEDS.length} seeds, 3 writers on two processes, one fault each: all converge, nothing acknowledged or received is lost`,
		{ timeout: 600_000 },
		async ({ skip }) => {
			if (!bench) return skip();
			const results: SeedResult[] = [];
			for (const seed of SEEDS) {
				const result = await bench.runSeed(seed, { kinds: KINDS, faults: 1, writers: 3 });
				process.stdout.write(`[FAULT3] ${describeSeed(result)}\n`);
				results.push(result);
			}
			const summary = summarize(results);
			console.log(describeSummary(summary));
			expect(summary.failedSeeds).toEqual([]);
			expect(summary.ackedLost).toBe(0);
			expect(summary.receivedLost).toBe(0);
		}
	);
});
