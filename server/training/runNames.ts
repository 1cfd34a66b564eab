// Run names are unique in a workspace (three runs all called "iris · adam lr 0.02"
// could not be told apart): a taken name gets the next free "#n".

/** Longest run name (a rename refuses more). */
export const MAX_RUN_NAME = 120;

const key = (name: string): string => name.trim().toLowerCase();

/** `name`, or `name #2`, `name #3`… whichever is not taken (compared case-insensitively). */
export function uniqueRunName(name: string, taken: Iterable<string>): string {
	const used = new Set([...taken].map(key));
	if (!used.has(key(name))) return name;
	const base = name.replace(/ #\d+$/, '');
	for (let n = 2; ; n++) {
		const candidate = `${base} #${n}`;
		if (!used.has(key(candidate))) return candidate;
	}
}

/** Null when `name` may name a run, else why not. */
export function checkRunName(name: string): string | null {
	const trimmed = name.trim();
	if (trimmed === '') return 'A run needs a name.';
	if (trimmed.length > MAX_RUN_NAME) return `A run name has at most ${MAX_RUN_NAME} characters.`;
	// eslint-disable-next-line no-control-regex -- control characters are what it refuses
	if (/[\u0000-\u001f\u007f]/.test(trimmed)) return 'A run name cannot hold control characters.';
	return null;
}

export function sameName(a: string, b: string): boolean {
	return key(a) === key(b);
}
