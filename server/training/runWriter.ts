// A run's writer for everything it streams: metric points and log lines into its
// own document (`run/{id}`), the latest summary and the log's size into `live`.
// Batched (one write per interval, see Batcher) and bounded: the log keeps its
// newest lines, and points beyond a cap are counted but not stored.

import * as Y from 'yjs';
import { schema } from '../protocol/docs.ts';
import type { RunId, WorkspaceId } from '../protocol/ids.ts';
import {
	lowerIsBetter,
	type LogSize,
	type MetricPoint,
	type RunSummary
} from '../protocol/training.ts';
import type { RelayApi } from '../relay/api.ts';
import type { Logger } from '../runtime.ts';
import { Batcher } from './batcher.ts';
import { liveWriter, runKey } from './workspaceDocs.ts';

export interface RunWriterLimits {
	/** Log lines kept in the run's document (the newest). */
	readonly logLines: number;
	/** Characters kept of one log line. */
	readonly lineChars: number;
	/** Metric points stored per run; later ones are dropped (and said so in the log). */
	readonly points: number;
}

export const DEFAULT_RUN_LIMITS: RunWriterLimits = {
	logLines: 500,
	lineChars: 1000,
	points: 20_000
};

// Log lines wait in `#pendingLog` (trimmed to the kept size, so a script printing
// faster than the interval cannot grow memory); the batcher carries a marker.
type Item = { readonly points: MetricPoint[] } | { readonly log: true };

export class RunWriter {
	readonly #batcher: Batcher<Item>;
	readonly #limits: RunWriterLimits;
	readonly #tail: string[] = [];
	#pendingLog: string[] = [];
	#summary: RunSummary | null = null;
	readonly #best: Record<string, number> = {};
	#last: Record<string, number> = {};
	#size: LogSize = { lines: 0, bytes: 0, kept: 0 };
	#stored = 0;
	#warned = false;

	constructor(
		relay: RelayApi,
		workspace: WorkspaceId,
		run: RunId,
		intervalMs: number,
		logger: Logger,
		limits: RunWriterLimits = DEFAULT_RUN_LIMITS
	) {
		this.#limits = limits;
		const live = liveWriter(relay, workspace);
		this.#batcher = new Batcher<Item>(
			(items) => {
				const points: MetricPoint[] = [];
				for (const item of items) if ('points' in item) points.push(...item.points);
				const lines = this.#pendingLog;
				this.#pendingLog = [];
				const summary = this.#summary;
				this.#summary = null;
				const fields = {
					...(summary ? { summary } : {}),
					...(lines.length > 0 ? { log: { ...this.#size } } : {})
				};
				// Both writes start in this tick; the relay stores them in one commit.
				return Promise.all([
					relay.write(runKey(workspace, run), null, (doc) => {
						if (points.length > 0) doc.getArray<MetricPoint>(schema.run.metrics).push(points);
						if (lines.length > 0) appendLog(doc, lines, limits.logLines);
					}),
					Object.keys(fields).length > 0 ? live.updateRun(run, fields) : null
				]).then(() => undefined);
			},
			intervalMs,
			logger
		);
	}

	get failures(): number {
		return this.#batcher.failures;
	}

	get logSize(): LogSize {
		return { ...this.#size };
	}

	/** The newest log lines (for a failed run's message). */
	tail(n: number): string[] {
		return this.#tail.slice(-n);
	}

	/** `summary` with the best and newest value of every metric seen so far (RUNTABLE3). */
	withBest(summary: RunSummary): RunSummary {
		return { ...summary, best: { ...this.#best }, last: { ...this.#last } };
	}

	points(points: MetricPoint[], summary: RunSummary | null): void {
		for (const p of points) {
			if (p.kind !== 'epoch') continue;
			this.#last = { ...this.#last, ...p.values };
			for (const [k, v] of Object.entries(p.values)) {
				if (!Number.isFinite(v)) continue;
				const b = this.#best[k];
				if (b === undefined || (lowerIsBetter(k) ? v < b : v > b)) this.#best[k] = v;
			}
		}
		if (summary) this.#summary = this.withBest(summary);
		const room = Math.max(0, this.#limits.points - this.#stored);
		const kept = points.length > room ? points.slice(0, room) : points;
		this.#stored += kept.length;
		if (kept.length < points.length && !this.#warned) {
			this.#warned = true;
			this.log([
				`[ensemble] this run reached ${this.#limits.points} metric points; later points are not stored`
			]);
		}
		if (kept.length > 0) this.#batcher.push({ points: kept });
		else if (summary) this.#batcher.push({ points: [] });
	}

	log(lines: readonly string[]): void {
		for (const raw of lines) {
			const line =
				raw.length > this.#limits.lineChars ? `${raw.slice(0, this.#limits.lineChars)}…` : raw;
			this.#size.lines += 1;
			this.#size.bytes += Buffer.byteLength(raw) + 1;
			this.#size.kept = Math.min(this.#size.lines, this.#limits.logLines);
			this.#tail.push(line);
			if (this.#tail.length > 50) this.#tail.shift();
			if (this.#pendingLog.length === 0) this.#batcher.push({ log: true });
			this.#pendingLog.push(line);
			if (this.#pendingLog.length > this.#limits.logLines * 2)
				this.#pendingLog = this.#pendingLog.slice(-this.#limits.logLines);
		}
	}

	flush(): Promise<void> {
		return this.#batcher.flush();
	}
}

function appendLog(doc: Y.Doc, lines: string[], max: number): void {
	const log = doc.getArray<string>(schema.run.log);
	const fresh = lines.length > max ? lines.slice(-max) : lines;
	log.push(fresh);
	const excess = log.length - max;
	if (excess > 0) log.delete(0, excess);
}
