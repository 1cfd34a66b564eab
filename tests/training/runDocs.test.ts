// The Dashboard's run documents (RUNTABLE9): the chart, the log and a run's details
// showing the same run share one document, closed when the last of them lets go.
import { expect, test } from 'vitest';
import * as Y from 'yjs';
import { RunDocs, type RunHandle } from '../../src/lib/sync/runDocs.ts';

function opener() {
	const opened: string[] = [];
	const closed: string[] = [];
	const open = (runId: string): RunHandle => {
		opened.push(runId);
		const doc = new Y.Doc();
		return {
			doc,
			destroy() {
				closed.push(runId);
				doc.destroy();
			}
		};
	};
	return { open, opened, closed };
}

test('[RUNTABLE9] a run shown three times is opened once and closed when the last lets go', () => {
	const runs = opener();
	const docs = new RunDocs(runs.open);
	const chart = docs.open('r1');
	const log = docs.open('r1');
	const detail = docs.open('r1');
	const other = docs.open('r2');
	expect(runs.opened).toEqual(['r1', 'r2']);
	expect(log.doc).toBe(chart.doc);
	expect(detail.doc).toBe(chart.doc);
	expect(other.doc).not.toBe(chart.doc);

	chart.destroy();
	// A second destroy() of the same use does not let go for the others.
	chart.destroy();
	log.destroy();
	expect(runs.closed).toEqual([]);
	expect(docs.openRuns.sort()).toEqual(['r1', 'r2']);
	detail.destroy();
	expect(runs.closed).toEqual(['r1']);
	expect(docs.openRuns).toEqual(['r2']);

	// Shown again later: opened afresh.
	const again = docs.open('r1');
	expect(runs.opened).toEqual(['r1', 'r2', 'r1']);
	expect(again.doc).not.toBe(chart.doc);
	again.destroy();
	other.destroy();
	expect(runs.closed).toEqual(['r1', 'r1', 'r2']);
	expect(docs.openRuns).toEqual([]);
});
