// The rules for the known hyperparameters, written once: the app checks a value as
// it is typed, the server checks it before a run or a sweep starts, and both give
// the same verdict and the same words (HP1).

import { OPTIMIZERS } from './training.ts';

export interface NumberRule {
	readonly kind: 'number';
	readonly min: number;
	readonly max: number;
	readonly integer: boolean;
	/** Whether `min` itself is allowed. */
	readonly minInclusive: boolean;
}

export interface ChoiceRule {
	readonly kind: 'choice';
	readonly options: readonly string[];
}

export type HyperparameterRule = NumberRule | ChoiceRule;

const num = (min: number, max: number, integer: boolean, minInclusive = true): NumberRule => ({
	kind: 'number',
	min,
	max,
	integer,
	minInclusive
});

export const HYPERPARAMETER_RULES = {
	learning_rate: num(0, 10, false, false),
	batch_size: num(1, 65536, true),
	epochs: num(1, 10000, true),
	hidden_units: num(1, 4096, true),
	validation_split: num(0, 0.9, false),
	seed: num(0, 2 ** 31 - 1, true),
	optimizer: { kind: 'choice', options: OPTIMIZERS }
} as const satisfies Record<string, HyperparameterRule>;

export type KnownHyperparameter = keyof typeof HYPERPARAMETER_RULES;

export function ruleOf(name: string): HyperparameterRule | null {
	return Object.hasOwn(HYPERPARAMETER_RULES, name)
		? HYPERPARAMETER_RULES[name as KnownHyperparameter]
		: null;
}

/** "learning_rate must be a number greater than 0 and at most 10" */
export function describeRule(name: string, rule: HyperparameterRule): string {
	if (rule.kind === 'choice') return `${name} must be one of ${rule.options.join(', ')}`;
	const kind = rule.integer ? 'a whole number' : 'a number';
	const low = rule.minInclusive ? `at least ${rule.min}` : `greater than ${rule.min}`;
	return `${name} must be ${kind} ${low} and at most ${rule.max}`;
}

/** A finite number from a number or a numeric string, else null. */
export function toNumber(value: unknown): number | null {
	if (typeof value === 'number') return Number.isFinite(value) ? value : null;
	if (typeof value === 'string' && value.trim() !== '') {
		const n = Number(value);
		return Number.isFinite(n) ? n : null;
	}
	return null;
}

export type Verdict =
	| { readonly ok: true; readonly value: number | string }
	| { readonly ok: false; readonly message: string };

/**
 * The verdict on `value` for a known hyperparameter (numbers may come as text, as
 * typed), or null when `name` has no rule (keys a team added take any value).
 */
export function checkHyperparameter(name: string, value: unknown): Verdict | null {
	const rule = ruleOf(name);
	if (!rule) return null;
	if (rule.kind === 'choice') {
		const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
		return rule.options.includes(text)
			? { ok: true, value: text }
			: { ok: false, message: describeRule(name, rule) };
	}
	const n = toNumber(value);
	const valid =
		n !== null &&
		(rule.minInclusive ? n >= rule.min : n > rule.min) &&
		n <= rule.max &&
		(!rule.integer || Number.isInteger(n));
	return valid ? { ok: true, value: n } : { ok: false, message: describeRule(name, rule) };
}
