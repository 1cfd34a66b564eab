// Hyperparameter values: what each known key accepts, and the words for a bad
// value. A value that fails here is shown next to its field and never synced.

export type HyperValue = number | string | boolean;

export type Parsed = { ok: true; value: HyperValue } | { ok: false; message: string };

export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'adagrad'] as const;

type Rule = (raw: string) => Parsed;

function number(check: (n: number) => boolean, message: string, integer = false): Rule {
	return (raw) => {
		const text = raw.trim();
		if (text === '') return { ok: false, message: 'A value is required.' };
		const n = Number(text);
		if (!Number.isFinite(n)) return { ok: false, message: `"${text}" is not a number.` };
		if (integer && !Number.isInteger(n)) return { ok: false, message: 'Must be a whole number.' };
		return check(n) ? { ok: true, value: n } : { ok: false, message };
	};
}

const RULES: Record<string, Rule> = {
	learning_rate: number(
		(n) => n > 0 && n <= 10,
		'Learning rate must be a positive number (at most 10).'
	),
	batch_size: number((n) => n >= 1 && n <= 65536, 'Batch size must be between 1 and 65536.', true),
	epochs: number((n) => n >= 1 && n <= 10000, 'Epochs must be between 1 and 10000.', true),
	hidden_units: number(
		(n) => n >= 1 && n <= 4096,
		'Hidden units must be between 1 and 4096.',
		true
	),
	validation_split: number(
		(n) => n >= 0 && n < 1,
		'Validation split is a fraction: at least 0 and below 1.'
	),
	seed: number(
		(n) => n >= 0 && n <= 2 ** 31 - 1,
		'Seed must be a non-negative whole number.',
		true
	),
	optimizer: (raw) =>
		(OPTIMIZERS as readonly string[]).includes(raw)
			? { ok: true, value: raw }
			: { ok: false, message: `Optimizer must be one of ${OPTIMIZERS.join(', ')}.` }
};

/** Parses a value typed for `key`; keys the team added keep their current type. */
export function parseHyperparameter(key: string, raw: string, current: unknown): Parsed {
	const rule = RULES[key];
	if (rule) return rule(raw);
	if (typeof current === 'number') return number(() => true, '')(raw);
	if (typeof current === 'boolean') {
		if (raw === 'true' || raw === 'false') return { ok: true, value: raw === 'true' };
		return { ok: false, message: 'Must be true or false.' };
	}
	const text = raw.trim();
	if (text === '') return { ok: false, message: 'A value is required.' };
	if (text.length > 200) return { ok: false, message: 'At most 200 characters.' };
	return { ok: true, value: text };
}

/** A value for a newly added key: a number when it reads as one, else text. */
export function parseNewValue(raw: string): Parsed {
	const text = raw.trim();
	if (text === '') return { ok: false, message: 'A value is required.' };
	if (text === 'true' || text === 'false') return { ok: true, value: text === 'true' };
	const n = Number(text);
	if (Number.isFinite(n)) return { ok: true, value: n };
	return parseHyperparameter('', text, '');
}

const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

export function checkNewKey(key: string, existing: readonly string[]): string | null {
	if (!KEY_PATTERN.test(key))
		return 'Use letters, digits and underscores (up to 40), starting with a letter.';
	if (existing.includes(key)) return `"${key}" already exists.`;
	return null;
}

export function isKnownKey(key: string): boolean {
	return key in RULES;
}
