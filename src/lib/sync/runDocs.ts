// The run documents a view shows, shared (RUNTABLE9): the live chart, the log and
// a run's details often show the same run (the one training now), and each used
// to open its own copy of it: its own socket, its own read of the local copy.

import type * as Y from 'yjs';

export interface RunHandle {
	readonly doc: Y.Doc;
	destroy(): void;
}

export class RunDocs {
	readonly #open = new Map<string, { readonly handle: RunHandle; users: number }>();
	readonly #openRun: (runId: string) => RunHandle;

	/** `openRun` opens a run's document (sync/run.ts); it is called once per run in use. */
	constructor(openRun: (runId: string) => RunHandle) {
		this.#openRun = openRun;
	}

	/** A run's document, opened on the first use; each use's destroy() lets go of it once. */
	open(runId: string): RunHandle {
		let entry = this.#open.get(runId);
		if (!entry) {
			entry = { handle: this.#openRun(runId), users: 0 };
			this.#open.set(runId, entry);
		}
		const used = entry;
		used.users++;
		let released = false;
		return {
			doc: used.handle.doc,
			destroy: () => {
				if (released) return;
				released = true;
				if (--used.users > 0) return;
				this.#open.delete(runId);
				used.handle.destroy();
			}
		};
	}

	/** Runs whose document is open now. */
	get openRuns(): string[] {
		return [...this.#open.keys()];
	}
}
