// Hyperparameter values: what each known key accepts, and the words for a bad
// value. A value that fails here is shown next to its field and never synced.

import { checkHyperparameter, ruleOf } from '$shared/hyperparameters.ts';

export type HyperValue = number | string | boolean;

export type Parsed = { ok: true; value: HyperValue } | { ok: false; message: string };

function anyNumber(raw: string): Parsed {
	const text = raw.trim();
	if (text === '') return { ok: false, message: 'A value is required.' };
	const n = Number(text);
	if (!Number.isFinite(n)) return { ok: false, message: `"${text}" is not a number.` };
	return { ok: true, value: n };
}

/**
 * Parses a value typed for `key`: known keys follow the rules the server applies
 * too ($shared/hyperparameters.ts); keys the team added keep their current type.
 */
export function parseHyperparameter(key: string, raw: string, current: unknown): Parsed {
	if (raw.trim() === '' && ruleOf(key)) return { ok: false, message: 'A value is required.' };
	const verdict = checkHyperparameter(key, raw);
	if (verdict) return verdict.ok ? verdict : { ok: false, message: `${verdict.message}.` };
	if (typeof current === 'number') return anyNumber(raw);
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
	return ruleOf(key) !== null;
}
