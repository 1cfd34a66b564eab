// The file a run on the server or an agent executes: `params.config.entry`, or
// train.py. It must be a plain relative name of a Python file the workspace has,
// so it can never name a path outside the run's folder or read as an option.

import { TrainingError } from './errors.ts';

export const DEFAULT_ENTRY = 'train.py';

/** Letters, digits, `_ . -` and spaces in folder and file names; `.py` at the end. */
const SANE = /^(?:[A-Za-z0-9_][A-Za-z0-9_. -]*\/)*[A-Za-z0-9_][A-Za-z0-9_. -]*\.py$/;
const MAX_CHARS = 200;

/** The entry file of a run from the workspace's config, checked against its code files (400 otherwise). */
export function entryFile(config: Record<string, unknown>, code: Record<string, string>): string {
	const raw = config.entry;
	if (raw === undefined || raw === null || raw === '') return checkExists(DEFAULT_ENTRY, code);
	if (typeof raw !== 'string')
		throw invalid(`config.entry must be a file name, got ${JSON.stringify(raw)}.`);
	if (raw.length > MAX_CHARS) throw invalid(`config.entry is longer than ${MAX_CHARS} characters.`);
	if (!SANE.test(raw) || raw.split('/').some((part) => part === '.' || part === '..'))
		throw invalid(
			`config.entry "${raw}" is not a plain name of a Python file (like train.py or models/train.py: letters, digits, _ . - and spaces, ending in .py, no leading / or -).`
		);
	return checkExists(raw, code);
}

function checkExists(entry: string, code: Record<string, string>): string {
	if (code[entry] !== undefined) return entry;
	const names = Object.keys(code).sort().join(', ') || 'none';
	throw invalid(`The workspace has no code file "${entry}" to run (it has: ${names}).`);
}

function invalid(message: string): TrainingError {
	return new TrainingError(400, 'invalid_request', message);
}
