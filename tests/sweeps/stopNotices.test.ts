// APPRUNNAME3: the person who started a run is told who stopped it, once, and
// only for a stop they saw happen (not for old runs on a page load).

import { describe, expect, it } from 'vitest';
import type { RunRecord, RunStatus } from '../../server/protocol/training.ts';
import { StopNotices } from '../../src/lib/training/stopNotices.ts';

const alice = { id: 'u-alice', name: 'Alice' };
const bob = { id: 'u-bob', name: 'Bob' };

function run(
	id: string,
	status: RunStatus,
	started_by = alice,
	stopped_by: RunRecord['stopped_by'] = null
): RunRecord {
	return { id, name: `run ${id}`, status, started_by, stopped_by } as unknown as RunRecord;
}

describe('stop notices', () => {
	it('[APPRUNNAME3] tells the starter who stopped their run, once', () => {
		const notices = new StopNotices();
		expect(notices.update([run('a', 'running'), run('b', 'queued')], alice.id)).toEqual([]);
		const after = [run('a', 'stopped', alice, bob), run('b', 'queued')];
		expect(notices.update(after, alice.id)).toEqual(['Bob stopped your run “run a”.']);
		expect(notices.update(after, alice.id)).toEqual([]);
		// The person who stopped it is not told about their own stop.
		const n2 = new StopNotices();
		n2.update([run('a', 'running')], bob.id);
		expect(n2.update([run('a', 'stopped', alice, bob)], bob.id)).toEqual([]);
	});

	it('[APPRUNNAME3] says nothing for own stops, completed runs, or runs already stopped when first seen', () => {
		const notices = new StopNotices();
		expect(notices.update([run('old', 'stopped', alice, bob)], alice.id)).toEqual([]);
		notices.update([run('x', 'running'), run('y', 'running')], alice.id);
		expect(
			notices.update([run('x', 'stopped', alice, alice), run('y', 'completed')], alice.id)
		).toEqual([]);
	});
});
