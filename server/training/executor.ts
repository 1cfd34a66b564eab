// What runs a claimed run on this server: one interface for the built-in
// TensorFlow.js model and the sandboxed subprocess (and, later, a debugger or a
// sweep's trials). The queue hands an executor a job; the executor streams points
// and log lines and resolves with how the run ended. It never writes documents.

import type { WorkspaceId } from '../protocol/ids.ts';
import type { MetricPoint, RunRecord, RunSummary } from '../protocol/training.ts';

export type LocalRunner = 'builtin' | 'server';

export interface ExecJob {
	readonly workspace: WorkspaceId;
	/** The run as recorded: its code, parameters, data set, target and entry file. */
	readonly run: RunRecord;
	/** The run's data set as stored (CSV bytes, or the bundled one). */
	readonly dataset: () => Promise<{ name: string; csv: Uint8Array } | null>;
}

export interface ExecEvents {
	points(points: MetricPoint[], summary: RunSummary | null): void;
	log(lines: string[]): void;
}

export type ExecOutcome =
	| { readonly status: 'completed'; readonly summary: RunSummary | null }
	| { readonly status: 'failed'; readonly message: string }
	| { readonly status: 'stopped'; readonly message?: string };

export interface ExecHandle {
	/** Resolves once the run has ended; never rejects. */
	readonly done: Promise<ExecOutcome>;
	/** Ends the run; `done` then resolves `stopped` (unless it had already ended). */
	stop(): Promise<void>;
}

export type Availability =
	{ readonly available: true } | { readonly available: false; readonly reason: string };

export interface Executor {
	readonly kind: LocalRunner;
	availability(): Availability;
	/** Starts the job; a rejection is a run that could not start (it ends `failed` with the message). */
	start(job: ExecJob, events: ExecEvents): Promise<ExecHandle>;
}
