// The seed's operational transformation for text, made correct (COMPAT SPEC OT1–OT6).
// Positions and lengths count Unicode code points, as the seed's Python `len()` did.
// No Node imports: a JSON client in the browser can use this module too.

export type Operation =
	| { readonly type: 'insert'; readonly position: number; readonly data: string }
	| { readonly type: 'delete'; readonly position: number; readonly length: number }
	/** A no-op that marks a position (a cursor); it moves with the text. */
	| { readonly type: 'retain'; readonly position: number };

const SURROGATE = /[\uD800-\uDFFF]/;

/** Length in code points. */
export function codePointLength(s: string): number {
	if (!SURROGATE.test(s)) return s.length;
	let n = 0;
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		// A high surrogate followed by a low one is one code point.
		if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
			const d = s.charCodeAt(i + 1);
			if (d >= 0xdc00 && d <= 0xdfff) i++;
		}
		n++;
	}
	return n;
}

/**
 * UTF-16 index of code point `cp` in `s` (clamped to the end). `from`/`fromCp`
 * let a caller walking forward resume where it stopped.
 */
export function utf16Index(s: string, cp: number, from = 0, fromCp = 0): number {
	let i = from;
	let n = fromCp;
	while (n < cp && i < s.length) {
		const c = s.charCodeAt(i);
		if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
			const d = s.charCodeAt(i + 1);
			i += d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
		} else i++;
		n++;
	}
	return i;
}

/**
 * Whether `ops`, applied one after another, stay inside a text of `length` code
 * points. Returns a message saying what is wrong, or null.
 */
export function checkOperations(length: number, ops: readonly Operation[]): string | null {
	let len = length;
	for (let k = 0; k < ops.length; k++) {
		const op = ops[k];
		if (!op) continue;
		if (!Number.isSafeInteger(op.position) || op.position < 0 || op.position > len)
			return `ops[${k}].position ${op.position} is outside the text (length ${len})`;
		if (op.type === 'insert') len += codePointLength(op.data);
		else if (op.type === 'delete') {
			if (!Number.isSafeInteger(op.length) || op.length < 1)
				return `ops[${k}].length must be a positive integer`;
			if (op.position + op.length > len)
				return `ops[${k}] deletes past the end of the text (length ${len})`;
			len -= op.length;
		}
	}
	return null;
}

/** Applies `ops` one after another. The caller checks them first (checkOperations). */
export function applyOperations(text: string, ops: readonly Operation[]): string {
	let out = text;
	for (const op of ops) {
		if (op.type === 'retain') continue;
		const bmp = !SURROGATE.test(out);
		const at = bmp ? op.position : utf16Index(out, op.position);
		if (op.type === 'insert') out = out.slice(0, at) + op.data + out.slice(at);
		else {
			const end = bmp ? at + op.length : utf16Index(out, op.length, at, 0);
			out = out.slice(0, at) + out.slice(end);
		}
	}
	return out;
}

/**
 * The deterministic tie-break for inserts at the same position: the operation of
 * the client with the smaller id goes first (left). Ids are unique per workspace.
 */
export function comesFirst(client: number, other: number): boolean {
	return client < other;
}

type Pair = [Operation[], Operation[]];

/**
 * The seed's `transform_operations`, made correct. Transforms two concurrent
 * operations made on the same text: returns `[a', b']`
 * with apply(apply(s, a), b') = apply(apply(s, b), a'). `aFirst` says whose insert
 * goes left when both insert at the same position (see comesFirst). One side may
 * become zero operations (a delete already done by the other) or two (a delete
 * split around a concurrent insert, which survives: nobody deleted it).
 */
export function transformOperations(a: Operation, b: Operation, aFirst: boolean): Pair {
	if (a.type === 'retain' || b.type === 'retain') {
		return [
			a.type === 'retain' ? [moveRetain(a, b)] : [a],
			b.type === 'retain' ? [moveRetain(b, a)] : [b]
		];
	}
	if (a.type === 'insert' && b.type === 'insert') {
		if (a.position < b.position || (a.position === b.position && aFirst)) {
			return [[a], [{ ...b, position: b.position + codePointLength(a.data) }]];
		}
		return [[{ ...a, position: a.position + codePointLength(b.data) }], [b]];
	}
	if (a.type === 'insert' && b.type === 'delete') return insertVsDelete(a, b);
	if (a.type === 'delete' && b.type === 'insert') {
		const [b2, a2] = insertVsDelete(b, a);
		return [a2, b2];
	}
	if (a.type === 'delete' && b.type === 'delete') {
		return [deleteAfterDelete(a, b), deleteAfterDelete(b, a)];
	}
	/* c8 ignore next */
	return [[a], [b]];
}

type Insert = Extract<Operation, { type: 'insert' }>;
type Delete = Extract<Operation, { type: 'delete' }>;
type Retain = Extract<Operation, { type: 'retain' }>;

function insertVsDelete(ins: Insert, del: Delete): Pair {
	const p = ins.position;
	const q = del.position;
	const end = q + del.length;
	const len = codePointLength(ins.data);
	if (p <= q) return [[ins], [{ ...del, position: q + len }]];
	if (p >= end) return [[{ ...ins, position: p - del.length }], [del]];
	// The insert lands inside the deleted range: it survives at the range's start,
	// and the delete is split into the parts before and after it.
	return [
		[{ ...ins, position: q }],
		[
			{ type: 'delete', position: q, length: p - q },
			{ type: 'delete', position: q + len, length: end - p }
		]
	];
}

/** Where position x goes once [q, q + m) is deleted. */
function shiftPast(x: number, q: number, m: number): number {
	if (x <= q) return x;
	if (x >= q + m) return x - m;
	return q;
}

function deleteAfterDelete(a: Delete, b: Delete): Operation[] {
	const start = shiftPast(a.position, b.position, b.length);
	const end = shiftPast(a.position + a.length, b.position, b.length);
	return end > start ? [{ type: 'delete', position: start, length: end - start }] : [];
}

function moveRetain(r: Retain, other: Operation): Retain {
	if (other.type === 'insert' && other.position <= r.position) {
		return { ...r, position: r.position + codePointLength(other.data) };
	}
	if (other.type === 'delete') {
		return { ...r, position: shiftPast(r.position, other.position, other.length) };
	}
	return r;
}

/**
 * Transforms two concurrent lists of operations (each applied one after another)
 * against each other: the server transforms an incoming list against every list
 * it accepted since the client's revision, and a client transforms what it
 * receives against its own unacknowledged lists.
 */
export function transformLists(
	a: readonly Operation[],
	b: readonly Operation[],
	aFirst: boolean
): Pair {
	let bCur: Operation[] = b.slice();
	const aOut: Operation[] = [];
	for (const x of a) {
		let xs: Operation[] = [x];
		const bNext: Operation[] = [];
		for (const y of bCur) {
			const [xs2, ys2] =
				xs.length === 1 && xs[0]
					? transformOperations(xs[0], y, aFirst)
					: transformLists(xs, [y], aFirst);
			xs = xs2;
			bNext.push(...ys2);
		}
		aOut.push(...xs);
		bCur = bNext;
	}
	return [aOut, bCur];
}
