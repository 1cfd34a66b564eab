// Small display helpers shared by the training components.

import type { RunRecord } from '$shared/training.ts';

export const RUN_COLORS = [
	'#4682b4',
	'#e07a1f',
	'#2e9e5b',
	'#b8336a',
	'#7b5ea7',
	'#8c6d1f',
	'#1f8c8c',
	'#c0392b'
];

// What Date#toLocaleString says, with one formatter made once: making one per
// call costs about a tenth of a millisecond, too much for a thousand rows.
const dateTime = new Intl.DateTimeFormat(undefined, {
	year: 'numeric',
	month: 'numeric',
	day: 'numeric',
	hour: 'numeric',
	minute: 'numeric',
	second: 'numeric'
});

// And each time once: the same runs' times are shown again on every visit to the
// Dashboard and every scroll of the runs table.
const said = new Map<number, string>();

export function when(ms: number | null): string {
	if (ms === null) return '—';
	let text = said.get(ms);
	if (text === undefined) {
		if (said.size >= 10_000) said.clear();
		said.set(ms, (text = dateTime.format(ms)));
	}
	return text;
}

export function num(value: number | null | undefined, digits = 3): string {
	return value === null || value === undefined || !Number.isFinite(value)
		? '—'
		: value.toFixed(digits);
}

/** A hyperparameter as people write it: 0.0333 rather than 0.03333333, 64 as 64. */
export function paramValue(value: number): string {
	if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
	return String(Number(value.toPrecision(4)));
}

export function progress(run: RunRecord): number | null {
	const { epoch, epochs } = run.summary;
	return epochs ? Math.min(1, epoch / epochs) : null;
}

export function isActive(run: RunRecord): boolean {
	return run.status === 'queued' || run.status === 'running';
}

/** Where a run runs (once claimed), or what it waits for. */
export function whereLabel(run: RunRecord): string {
	// A script's run says whose script in `where`, which its starter already says.
	if (runnerOf(run) === 'external') return 'from a script';
	if (run.where) return `on ${run.where}`;
	switch (runnerOf(run)) {
		case 'server':
			return run.status === 'queued' ? 'waits for the server' : 'on the server';
		case 'agent':
			return run.agent ? `waits for agent ${run.agent}` : 'waits for any agent';
		case 'external':
			return 'from a script';
		default:
			return 'built-in model';
	}
}

/** Agent names seen running this workspace's runs (`where` is "agent {name}"). */
export function knownAgents(runs: readonly RunRecord[]): string[] {
	const names = new Set<string>();
	for (const r of runs) {
		if (r.where?.startsWith('agent ')) names.add(r.where.slice(6));
		if (r.agent) names.add(r.agent);
	}
	return [...names].sort();
}

/** Bytes in words: 812 B, 14.2 KB, 3.1 MB. */
export function bytes(n: number): string {
	if (n < 1024) return `${n} B`;
	if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
	return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Where a run runs; runs recorded before the queue say it by `source`. */
export function runnerOf(run: RunRecord): NonNullable<RunRecord['runner']> {
	return run.runner ?? run.source;
}

/** Runs the queue stops and re-queues (a script's own runs end themselves). */
export function queueRun(run: RunRecord): boolean {
	return runnerOf(run) !== 'external';
}

/** An ended run the queue can run again. */
export function canRequeue(run: RunRecord): boolean {
	return queueRun(run) && !isActive(run);
}
