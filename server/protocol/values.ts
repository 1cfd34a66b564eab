// The limits every value a client, a script or the server writes must obey,
// whichever way it arrives (relay updates and awareness, the JSON protocol,
// HTTP, training): one function, so that no path lets through what another
// refuses (LIMIT7). Deeply nested values are the danger: `JSON.stringify` and
// lib0's `readAny` recurse, and a value a few thousand levels deep makes them
// throw RangeError where nothing expects it (issue 19).

/** Most containers (arrays, objects) on any path from a value to a leaf. */
export const MAX_VALUE_DEPTH = 64;

export type ValueProblemCode = 'value_too_deep' | 'value_too_large';

export interface ValueProblem {
	readonly code: ValueProblemCode;
	readonly message: string;
}

function isContainer(v: unknown): v is object {
	return typeof v === 'object' && v !== null && !ArrayBuffer.isView(v);
}

/**
 * How many containers nest on the deepest path (`1` → 0, `[1]` → 1, `{a:[]}` → 2).
 * Iterative, so a value nested a million deep costs no stack; stops early once
 * past `stopAfter` (the answer is then `stopAfter + 1`).
 */
export function valueDepth(value: unknown, stopAfter = Number.POSITIVE_INFINITY): number {
	if (!isContainer(value)) return 0;
	let deepest = 0;
	const stack: [object, number][] = [[value, 1]];
	for (let top = stack.pop(); top; top = stack.pop()) {
		const [node, depth] = top;
		if (depth > deepest) deepest = depth;
		if (deepest > stopAfter) return deepest;
		for (const child of Array.isArray(node) ? node : Object.values(node)) {
			if (isContainer(child)) stack.push([child, depth + 1]);
		}
	}
	return deepest;
}

/**
 * Null when `value` may be stored or relayed, else what is wrong with it.
 * `maxBytes` bounds its JSON encoding (measured only once the depth is known to
 * be safe for `JSON.stringify`); `within` is how many containers it will be
 * stored inside.
 */
export function checkValue(value: unknown, maxBytes?: number, within = 0): ValueProblem | null {
	if (within + valueDepth(value, MAX_VALUE_DEPTH) > MAX_VALUE_DEPTH) {
		return {
			code: 'value_too_deep',
			message: `a value may nest at most ${MAX_VALUE_DEPTH} arrays or objects deep`
		};
	}
	if (maxBytes !== undefined) {
		const size = jsonLength(value);
		if (size > maxBytes) {
			return {
				code: 'value_too_large',
				message: `the value has ${size} bytes of JSON; at most ${maxBytes}`
			};
		}
	}
	return null;
}

/** Length of the value's JSON text (0 for undefined); call only on values of safe depth. */
export function jsonLength(value: unknown): number {
	return value === undefined ? 0 : (JSON.stringify(value)?.length ?? 0);
}
