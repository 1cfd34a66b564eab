// Large documents built from the automerge-paper trace, cached on disk between
// runs (replaying the trace takes a few seconds each).

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { applyPatches, loadTrace, type TraceName } from './trace.ts';
import { scratchText } from '../../tests/helpers/schemaRoots.ts';

const CACHE = join(tmpdir(), 'ensemble-bench-cache');

/**
 * One file per copy: the whole history of `trace` replayed into the scratch text (a `params` schema root, SCHEMA1) by
 * client `3e9 + copy`. Several copies merged form one document with all their history.
 */
export function traceDocFiles(trace: TraceName, copies: number): string[] {
	mkdirSync(CACHE, { recursive: true });
	const files: string[] = [];
	for (let copy = 0; copy < copies; copy++) {
		const file = join(CACHE, `${trace}-config-client${3_000_000_000 + copy}.bin`);
		if (!existsSync(file)) {
			const doc = new Y.Doc();
			// A client id of the usual size (random uint32 ids take 5 bytes as varints).
			doc.clientID = 3_000_000_000 + copy;
			const text = scratchText(doc);
			const t = loadTrace(trace);
			if (t.startContent) text.insert(0, t.startContent);
			for (const txn of t.txns) doc.transact(() => applyPatches(text, txn.patches));
			writeFileSync(file, Y.encodeStateAsUpdate(doc));
		}
		files.push(file);
	}
	return files;
}

/** The floor of a cold load: decode the stored update and encode it again, in process (ms, median of 5). */
export function decodeEncodeFloorMs(update: Uint8Array): number {
	const times: number[] = [];
	for (let i = 0; i < 5; i++) {
		const t0 = performance.now();
		const doc = new Y.Doc();
		Y.applyUpdate(doc, update);
		Y.encodeStateAsUpdate(doc);
		times.push(performance.now() - t0);
		doc.destroy();
	}
	times.sort((a, b) => a - b);
	return times[2] ?? Number.NaN;
}
