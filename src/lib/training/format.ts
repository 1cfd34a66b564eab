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

export function when(ms: number | null): string {
	return ms === null ? '—' : new Date(ms).toLocaleString();
}

export function num(value: number | null | undefined, digits = 3): string {
	return value === null || value === undefined || !Number.isFinite(value)
		? '—'
		: value.toFixed(digits);
}

export function progress(run: RunRecord): number | null {
	const { epoch, epochs } = run.summary;
	return epochs ? Math.min(1, epoch / epochs) : null;
}

export function isActive(run: RunRecord): boolean {
	return run.status === 'queued' || run.status === 'running';
}
