// A bounded structural validator for Yjs v1 updates (the format y-websocket
// sends). It walks every struct, content and delete-set entry the way Yjs's
// decoder would, checking each count and length against the bytes that remain,
// so that a crafted update (Yjs issue 687: loops or unbounded allocation) or a
// mutated one (invalid UTF-8 or JSON that Yjs throws on half-way through
// applying, corrupting the document: TOOLCHAIN.md) is rejected before it
// touches a shared document. Work is linear in the input's length.

import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { CloseCode } from '../protocol/closeCodes.ts';
import { MAX_VALUE_DEPTH, valueDepth } from '../protocol/values.ts';
import { MAX_VAR_UINT, MalformedInput, Reader } from './reader.ts';

export interface UpdateShape {
	readonly structs: number;
	readonly deletes: number;
	/** Items whose parent is given as an ID: client, clock of each, flat. */
	readonly parentRefs: readonly number[];
	/**
	 * Per client, the update's structs as flat triples (start clock, end clock,
	 * content ref), in increasing clock order: no allocation per struct, and a
	 * parent is found by binary search (work stays linear in the input).
	 */
	readonly ranges: ReadonlyMap<number, readonly number[]>;
	/** Names of the root types the update's items are put in directly (parent given by name). */
	readonly roots: ReadonlySet<string>;
}

const CONTENT_DELETED = 1;
const CONTENT_TYPE = 7;
const GC_REF = 0;
const SKIP_REF = 10;

/**
 * Where a value (lib0 `any`, or a JSON string) nested deeper than
 * MAX_VALUE_DEPTH was found: bytes [start, end) of the update. A client's update
 * is refused at the first one (`deep` null: no callback); a stored one (from
 * before the limit) has them replaced.
 */
type DeepValue = ((start: number, end: number, kind: 'any' | 'json') => void) | null;

const BIT6 = 32;
const BIT7 = 64;
const BIT8 = 128;
const BITS5 = 31;

function tooDeep(): MalformedInput {
	return new MalformedInput(
		`a value nests more than ${MAX_VALUE_DEPTH} arrays or objects deep`,
		CloseCode.valueTooDeep
	);
}

/** Throws MalformedInput unless `update` is one whole, well-formed v1 update. */
export function validateUpdateV1(update: Uint8Array): UpdateShape {
	return walkUpdate(update, null);
}

function walkUpdate(update: Uint8Array, deep: DeepValue): UpdateShape {
	const r = new Reader(update);
	let structs = 0;
	const parentRefs: number[] = [];
	const ranges = new Map<number, number[]>();
	const roots = new Set<string>();
	const clients = r.count(3);
	for (let i = 0; i < clients; i++) {
		const n = r.count(1);
		const client = r.varUint();
		let clock = r.varUint();
		// A client listed twice replaces its first list, as in Yjs's decoder (which
		// integrates only the last); within one list clocks strictly increase.
		const list: number[] = [];
		ranges.set(client, list);
		for (let j = 0; j < n; j++) {
			const ref = r.bytes[r.pos]! & BITS5;
			const start = clock;
			clock += readStruct(r, client, clock, parentRefs, roots, deep);
			if (clock > MAX_VAR_UINT) throw new MalformedInput('clock out of range');
			list.push(start, clock, ref);
			structs++;
		}
	}
	let deletes = 0;
	const dsClients = r.count(2);
	for (let i = 0; i < dsClients; i++) {
		r.varUint(); // client
		const n = r.count(2);
		for (let j = 0; j < n; j++) {
			const clock = r.varUint();
			const len = nonEmpty(r.varUint());
			if (clock + len > MAX_VAR_UINT) throw new MalformedInput('delete range out of range');
			deletes++;
		}
	}
	r.end();
	return { structs, deletes, parentRefs, ranges, roots };
}

/** Returns the struct's length in clock units. */
function readStruct(
	r: Reader,
	client: number,
	clock: number,
	parentRefs: number[],
	roots: Set<string>,
	deep: DeepValue
): number {
	const info = r.uint8();
	const ref = info & BITS5;
	if (ref === 0 || ref === 10) return nonEmpty(r.varUint()); // GC or Skip
	const hasOrigin = (info & BIT8) !== 0;
	const hasRightOrigin = (info & BIT7) !== 0;
	if (hasOrigin) readId(r, client, clock);
	if (hasRightOrigin) readId(r, client, clock);
	if (!hasOrigin && !hasRightOrigin) {
		const parentIsRoot = r.varUint();
		if (parentIsRoot === 1) roots.add(r.varString());
		else if (parentIsRoot === 0) readId(r, client, clock, parentRefs);
		else throw new MalformedInput('invalid parent info');
		if ((info & BIT6) !== 0) r.varString(); // parentSub
	}
	return readContent(r, ref, deep);
}

/**
 * An item refers (origin, right origin, parent) only to what existed when it
 * was made: for its own client, an earlier clock. Yjs checks references to
 * other clients (missing ones wait as pending) but trusts these, and a forward
 * one throws half-way through integration.
 */
function readId(r: Reader, client: number, clock: number, out?: number[]): void {
	const refClient = r.varUint();
	const refClock = r.varUint();
	if (refClient === client && refClock >= clock) throw new MalformedInput('forward reference');
	out?.push(refClient, refClock);
}

/**
 * An item's parent given by ID must be a type (or a deleted or collected one,
 * which Yjs handles). Yjs takes `content.type` of whatever it finds there, and
 * a string or other content as parent makes it throw half-way through
 * integrating. Looks in the update itself, then in the document; a parent
 * neither holds yet is missing, and Yjs keeps the item pending.
 */
export function checkParents(doc: Y.Doc, shape: UpdateShape): void {
	const refs = shape.parentRefs;
	for (let i = 0; i < refs.length; i += 2) {
		const client = refs[i]!;
		const clock = refs[i + 1]!;
		const ref = refInUpdate(shape.ranges.get(client), clock);
		if (ref !== null && ref !== SKIP_REF) {
			if (ref !== CONTENT_TYPE && ref !== CONTENT_DELETED && ref !== GC_REF) {
				throw new MalformedInput('parent is not a type');
			}
			continue;
		}
		const structs = doc.store.clients.get(client);
		if (!structs || clock >= Y.getState(doc.store, client)) continue;
		const struct = structs[Y.findIndexSS(structs, clock)];
		if (struct instanceof Y.GC) continue;
		if (
			struct instanceof Y.Item &&
			(struct.content instanceof Y.ContentType || struct.content instanceof Y.ContentDeleted)
		) {
			continue;
		}
		throw new MalformedInput('parent is not a type');
	}
}

/**
 * Every root type the update puts an item in must be one of the document's
 * schema (SCHEMA1): an item names its root only when it has no origin, and an
 * item with an origin or a parent ID lands where that one is, so once the first
 * item of every root is checked nothing can reach a root outside `allowed`.
 * Without this, one editor could add a `training` map to `params` that every
 * client then loads and keeps for ever.
 */
export function checkRoots(shape: UpdateShape, allowed: ReadonlySet<string>, doc: string): void {
	for (const root of shape.roots) {
		if (!allowed.has(root)) {
			throw new MalformedInput(
				`"${root.slice(0, 64)}" is not a part of the ${doc} document`,
				CloseCode.notInSchema
			);
		}
	}
}

/** The content ref of the update's struct holding `clock`, or null. */
function refInUpdate(list: readonly number[] | undefined, clock: number): number | null {
	if (!list) return null;
	// Triples sorted by start clock (structs of one client are contiguous): binary search.
	let lo = 0;
	let hi = list.length / 3 - 1;
	while (lo <= hi) {
		const mid = (lo + hi) >>> 1;
		const start = list[mid * 3]!;
		if (clock < start) hi = mid - 1;
		else if (clock >= list[mid * 3 + 1]!) lo = mid + 1;
		else return list[mid * 3 + 2]!;
	}
	return null;
}

/** Content refs from Yjs's `contentRefs`; returns the content's length. */
function readContent(r: Reader, ref: number, deep: DeepValue): number {
	switch (ref) {
		case 1: {
			// ContentDeleted
			const len = r.varUint();
			if (len < 1) throw new MalformedInput('empty deleted content');
			return len;
		}
		case 2: {
			// ContentJSON: each entry a JSON string or 'undefined'
			const len = r.count(1);
			for (let i = 0; i < len; i++) {
				const start = r.pos;
				const s = r.varString();
				if (s !== 'undefined') jsonString(r, s, start, deep);
			}
			return nonEmpty(len);
		}
		case 3: // ContentBinary
			r.varBytes();
			return 1;
		case 4: {
			// ContentString: length in UTF-16 code units
			const s = r.varString();
			return nonEmpty(s.length);
		}
		case 5: {
			// ContentEmbed
			const start = r.pos;
			jsonString(r, r.varString(), start, deep);
			return 1;
		}
		case 6: {
			// ContentFormat
			r.varString();
			const start = r.pos;
			jsonString(r, r.varString(), start, deep);
			return 1;
		}
		case 7: {
			// ContentType
			const typeRef = r.varUint();
			if (typeRef > 6) throw new MalformedInput('unknown type ref');
			if (typeRef === 3 || typeRef === 5) r.varString();
			return 1;
		}
		case 8: {
			// ContentAny
			const len = r.count(1);
			for (let i = 0; i < len; i++) {
				const start = r.pos;
				if (skipAny(r, deep ? Infinity : MAX_VALUE_DEPTH) <= MAX_VALUE_DEPTH) continue;
				if (!deep) throw tooDeep();
				deep(start, r.pos, 'any');
			}
			return nonEmpty(len);
		}
		case 9:
			// ContentDoc: subdocuments are not part of Ensemble's schema, and
			// their options would be passed straight into `new Y.Doc(...)`.
			throw new MalformedInput('subdocuments are not accepted');
		default:
			throw new MalformedInput('unknown content ref');
	}
}

function nonEmpty(len: number): number {
	if (len < 1) throw new MalformedInput('empty content');
	return len;
}

/** A JSON string just read from bytes [start, r.pos): it must parse, and nest within the limit. */
function jsonString(r: Reader, s: string, start: number, deep: DeepValue): void {
	let value: unknown;
	try {
		value = JSON.parse(s);
	} catch {
		throw new MalformedInput('invalid JSON content');
	}
	if (valueDepth(value, MAX_VALUE_DEPTH) <= MAX_VALUE_DEPTH) return;
	if (!deep) throw tooDeep();
	deep(start, r.pos, 'json');
}

/**
 * Reads one lib0 `any` value (type byte 116…127: 127 - index into its lookup
 * table) without recursion, so that its depth costs no stack, and returns how
 * many arrays or objects nest on its deepest path (as `valueDepth`); stops
 * half-way once that passes `stopAfter`.
 */
function skipAny(r: Reader, stopAfter: number): number {
	// Children still to read per open container, and whether it is a map (keyed).
	const remaining: number[] = [];
	const keyed: boolean[] = [];
	let deepest = 0;
	do {
		const depth = remaining.length;
		if (depth > 0) {
			remaining[depth - 1]!--;
			if (keyed[depth - 1]) r.varString();
		}
		const type = r.uint8();
		switch (type) {
			case 127: // undefined
			case 126: // null
			case 121: // false
			case 120: // true
				break;
			case 125:
				r.varInt();
				break;
			case 124:
				r.skip(4);
				break;
			case 123:
			case 122:
				r.skip(8);
				break;
			case 119:
				r.varString();
				break;
			case 116:
				r.varBytes();
				break;
			case 118: // object: count, then key and value pairs
			case 117: {
				// array: count, then values
				const n = r.count(type === 118 ? 2 : 1);
				deepest = Math.max(deepest, depth + 1);
				if (deepest > stopAfter) return deepest;
				if (n > 0) {
					remaining.push(n);
					keyed.push(type === 118);
					continue;
				}
				break;
			}
			default:
				throw new MalformedInput('unknown value type');
		}
		while (remaining.length > 0 && remaining[remaining.length - 1] === 0) {
			remaining.pop();
			keyed.pop();
		}
	} while (remaining.length > 0);
	return deepest;
}

/**
 * Loading what was stored before values had a depth limit (issue 19): the
 * update with every value nested deeper than MAX_VALUE_DEPTH replaced by null
 * (its item stays, so clocks and the rest of the document are unchanged), and
 * how many were replaced. Yjs's own `readAny` recurses and throws RangeError
 * on such a value, which made the whole document unloadable. Throws
 * MalformedInput when the update is malformed in another way.
 */
export function replaceDeepValues(update: Uint8Array): { update: Uint8Array; replaced: number } {
	const ranges: { start: number; end: number; kind: 'any' | 'json' }[] = [];
	walkUpdate(update, (start, end, kind) => ranges.push({ start, end, kind }));
	if (ranges.length === 0) return { update, replaced: 0 };
	const e = encoding.createEncoder();
	let pos = 0;
	for (const { start, end, kind } of ranges) {
		encoding.writeUint8Array(e, update.subarray(pos, start));
		if (kind === 'any') encoding.writeUint8(e, 126);
		else encoding.writeVarString(e, 'null');
		pos = end;
	}
	encoding.writeUint8Array(e, update.subarray(pos));
	return { update: encoding.toUint8Array(e), replaced: ranges.length };
}

/** A state vector (sync step 1): pairs of client and clock. */
export function validateStateVector(sv: Uint8Array): void {
	const r = new Reader(sv);
	const n = r.count(2);
	for (let i = 0; i < n; i++) {
		r.varUint();
		r.varUint();
	}
	r.end();
}

export function isEmptyUpdate(shape: UpdateShape): boolean {
	return shape.structs === 0 && shape.deletes === 0;
}
