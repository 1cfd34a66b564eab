// The editing traces (../shared/traces, CC BY 4.0) and how to apply them to a Y.Text.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type * as Y from 'yjs';

export type TraceName = 'automerge-paper' | 'sveltecomponent';

export type Patch = readonly [pos: number, del: number, insert: string];

export interface Trace {
	readonly name: TraceName;
	readonly startContent: string;
	readonly endContent: string;
	readonly txns: readonly { readonly patches: readonly Patch[] }[];
}

export const TRACES_DIR =
	process.env.TRACES_DIR ?? join(import.meta.dirname, '../../../shared/traces');

export const TRACE_CREDIT =
	'Editing traces from josephg/editing-traces (CC BY 4.0); automerge-paper prepared by ' +
	'Martin Kleppmann for automerge/automerge-perf (CC BY 4.0).';

const cache = new Map<TraceName, Trace>();

export function loadTrace(name: TraceName): Trace {
	const hit = cache.get(name);
	if (hit) return hit;
	const raw = JSON.parse(
		gunzipSync(readFileSync(join(TRACES_DIR, `${name}.json.gz`))).toString('utf8')
	) as Omit<Trace, 'name'>;
	const trace: Trace = { name, ...raw };
	cache.set(name, trace);
	return trace;
}

/**
 * Patches of one transaction are in descending position order, so they apply one
 * after another. Positions count code points; both traces used here are in the
 * Basic Multilingual Plane, where that equals Y.Text's UTF-16 index (the
 * endContent check would catch it otherwise).
 */
export function applyPatches(text: Y.Text, patches: readonly Patch[]): void {
	for (const [pos, del, insert] of patches) {
		if (del > 0) text.delete(pos, del);
		if (insert.length > 0) text.insert(pos, insert);
	}
}
