// Reads the workspace's hyperparameters (the `params` document holds whatever people
// typed) into checked numbers, so a bad value is refused with a message before a
// worker starts rather than failing deep inside TensorFlow.js.

import { DEFAULT_HYPERPARAMETERS } from '../protocol/docs.ts';
import { OPTIMIZERS, type Hyperparameters } from '../protocol/training.ts';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

interface NumberRule {
	min: number;
	max: number;
	integer: boolean;
	/** Whether `min` itself is allowed. */
	minInclusive: boolean;
}

const RULES: Record<Exclude<keyof Hyperparameters, 'optimizer'>, NumberRule> = {
	learning_rate: { min: 0, max: 10, integer: false, minInclusive: false },
	batch_size: { min: 1, max: 65536, integer: true, minInclusive: true },
	epochs: { min: 1, max: 10000, integer: true, minInclusive: true },
	hidden_units: { min: 1, max: 4096, integer: true, minInclusive: true },
	validation_split: { min: 0, max: 0.9, integer: false, minInclusive: true },
	seed: { min: 0, max: 2 ** 31 - 1, integer: true, minInclusive: true }
};

function toNumber(value: unknown): number | null {
	if (typeof value === 'number') return Number.isFinite(value) ? value : null;
	if (typeof value === 'string' && value.trim() !== '') {
		const n = Number(value);
		return Number.isFinite(n) ? n : null;
	}
	return null;
}

function describeRule(name: string, rule: NumberRule): string {
	const kind = rule.integer ? 'a whole number' : 'a number';
	const low = rule.minInclusive ? `at least ${rule.min}` : `greater than ${rule.min}`;
	return `${name} must be ${kind} ${low} and at most ${rule.max}`;
}

/**
 * Missing values take the defaults; present ones must be valid. Extra keys are
 * ignored here (they are still copied into the run record as they were).
 */
export function parseHyperparameters(raw: Record<string, unknown>): ParseResult<Hyperparameters> {
	const out: Record<string, unknown> = { ...DEFAULT_HYPERPARAMETERS };
	for (const [name, rule] of Object.entries(RULES)) {
		const value = raw[name];
		if (value === undefined || value === null || value === '') continue;
		const n = toNumber(value);
		const valid =
			n !== null &&
			(rule.minInclusive ? n >= rule.min : n > rule.min) &&
			n <= rule.max &&
			(!rule.integer || Number.isInteger(n));
		if (!valid) {
			return {
				ok: false,
				message: `${describeRule(name, rule)}; the workspace has ${JSON.stringify(value)}`
			};
		}
		out[name] = n;
	}
	const optimizer = raw.optimizer;
	if (optimizer !== undefined && optimizer !== null && optimizer !== '') {
		const name = typeof optimizer === 'string' ? optimizer.trim().toLowerCase() : '';
		if (!(OPTIMIZERS as readonly string[]).includes(name)) {
			return {
				ok: false,
				message: `optimizer must be one of ${OPTIMIZERS.join(', ')}; the workspace has ${JSON.stringify(optimizer)}`
			};
		}
		out.optimizer = name;
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
