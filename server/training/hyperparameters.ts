// Reads the workspace's hyperparameters (the `params` document holds whatever people
// typed) into checked numbers, so a bad value is refused with a message before a
// worker starts rather than failing deep inside TensorFlow.js.

import { DEFAULT_HYPERPARAMETERS } from '../protocol/docs.ts';
import { checkHyperparameter, HYPERPARAMETER_RULES } from '../protocol/hyperparameters.ts';
import type { Hyperparameters } from '../protocol/training.ts';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Missing values take the defaults; present ones must pass the shared rules
 * (server/protocol/hyperparameters.ts). Extra keys are ignored here (they are
 * still copied into the run record as they were).
 */
export function parseHyperparameters(raw: Record<string, unknown>): ParseResult<Hyperparameters> {
	const out: Record<string, unknown> = { ...DEFAULT_HYPERPARAMETERS };
	for (const name of Object.keys(HYPERPARAMETER_RULES)) {
		const value = raw[name];
		if (value === undefined || value === null || value === '') continue;
		const verdict = checkHyperparameter(name, value);
		if (verdict && !verdict.ok) {
			return {
				ok: false,
				message: `${verdict.message}; the workspace has ${JSON.stringify(value)}`
			};
		}
		if (verdict) out[name] = verdict.value;
	}
	return { ok: true, value: out as unknown as Hyperparameters };
}

/** The params as recorded in a run: JSON scalars only, whatever else the map held is dropped. */
export function snapshotParams(
	raw: Record<string, unknown>
): Record<string, number | string | boolean> {
	const out: Record<string, number | string | boolean> = {};
	for (const [k, v] of Object.entries(raw)) {
		if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
	}
	return out;
}
