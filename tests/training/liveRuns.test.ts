// The live runs the training panel reads (RUNTABLE1): a change to one run re-reads
// that run only; the others keep their objects, so a thousand rows are not redrawn
// for every update (the page with 1,000 runs never finished loading before).
import { expect, test } from 'vitest';
import * as Y from 'yjs';
import { schema } from '../../server/protocol/docs.ts';
import { LiveRuns } from '../../src/lib/training/liveRuns.ts';

function addRun(runs: Y.Map<Y.Map<unknown>>, id: string, createdAt: number): void {
	const m = new Y.Map<unknown>();
	runs.set(id, m);
	m.set('id', id);
	m.set('name', id);
	m.set('created_at', createdAt);
	m.set('status', 'running');
}

test('[RUNTABLE1] a change to one run re-reads only that run; new runs come in newest first; a removed run goes', () => {
	const live = new Y.Doc();
	const runs = live.getMap<Y.Map<unknown>>(schema.live.runs);
	live.transact(() => {
		for (let i = 0; i < 1000; i++) addRun(runs, `r${i}`, i);
	});
	const reader = new LiveRuns(runs);
	const training = { runs: reader.read() };
	runs.observeDeep((events) => (training.runs = reader.read(events)));
	expect(training.runs).toHaveLength(1000);
	expect(training.runs[0]?.id).toBe('r999');
	const before = training.runs;

	runs.get('r5')?.set('status', 'completed');
	expect(training.runs.find((r) => r.id === 'r5')?.status).toBe('completed');
	const changed = training.runs.filter((r, i) => r !== before[i]).map((r) => r.id);
	expect(changed).toEqual(['r5']);

	addRun(runs, 'new', 5000);
	expect(training.runs[0]?.id).toBe('new');
	expect(training.runs).toHaveLength(1001);

	runs.delete('r0');
	expect(training.runs.some((r) => r.id === 'r0')).toBe(false);
	expect(training.runs).toHaveLength(1000);
});
