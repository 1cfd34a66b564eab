// `live.runs` read incrementally: a change re-reads (toJSON) only the runs it
// touched, and the others keep their objects, so their rows and charts are not
// redrawn. Reading every run on every update kept a page with 1,000 runs busy
// for good (issue 16).

import * as Y from 'yjs';
import type { RunRecord } from '$shared/training.ts';

export class LiveRuns {
	/** Each run's record as last read, by its key in `live.runs`. */
	readonly #records = new Map<string, RunRecord>();

	readonly runs: Y.Map<Y.Map<unknown>>;

	constructor(runs: Y.Map<Y.Map<unknown>>) {
		this.runs = runs;
	}

	/** Every run, newest first; `events` (from observeDeep) limit what is re-read. */
	read(events?: ReadonlyArray<Y.YEvent<Y.AbstractType<unknown>>>): RunRecord[] {
		const changed = new Set<string>();
		let all = !events;
		for (const event of events ?? []) {
			if (event.target === this.runs) for (const key of event.keys.keys()) changed.add(key);
			else if (typeof event.path[0] === 'string') changed.add(event.path[0]);
			else all = true;
		}
		const keys = all ? [...this.#records.keys(), ...this.runs.keys()] : changed;
		for (const key of keys) {
			const entry = this.runs.get(key);
			if (entry instanceof Y.Map) this.#records.set(key, entry.toJSON() as RunRecord);
			else this.#records.delete(key);
		}
		return [...this.#records.values()].sort((a, b) => b.created_at - a.created_at);
	}
}
