// Tells the person who started a run who stopped it (APPRUNNAME3): a notice when
// one of my runs, seen queued or running, is now stopped by someone else. Runs
// already ended when first seen (an old stop, a page load) say nothing.

import type { RunRecord } from '$shared/training.ts';

export class StopNotices {
	readonly #active = new Set<string>();

	/** The notices for this update of the runs, each said once. */
	update(runs: readonly RunRecord[], me: string): string[] {
		const out: string[] = [];
		for (const run of runs) {
			const active = run.status === 'queued' || run.status === 'running';
			if (active) {
				this.#active.add(run.id);
				continue;
			}
			if (!this.#active.delete(run.id)) continue;
			const by = run.stopped_by;
			if (run.status === 'stopped' && by && by.id !== me && run.started_by.id === me)
				out.push(`${by.name} stopped your run “${run.name}”.`);
		}
		return out;
	}
}
