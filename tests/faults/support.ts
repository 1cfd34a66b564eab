// Shared by the single-fault tests (tests/faults/*.test.ts): writers that
// reconnect, convergence, /readyz, raw frames and what storage holds.

import { afterEach } from 'vitest';
import * as Y from 'yjs';
import WebSocket from 'ws';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { PostgresStorage } from '../../server/storage/postgres.ts';
import type { RoomName } from '../../server/protocol/docs.ts';
import type { Cluster } from '../helpers/cluster.ts';
import { waitUntil } from '../helpers/wait.ts';
import { Writer } from './writer.ts';
import { scratchList, scratchText, type WritableDoc } from '../helpers/schemaRoots.ts';

const cleanups: (() => Promise<unknown>)[] = [];

/** Registers the file's afterEach; returns how to add a cleanup (run in reverse). */
export function useCleanups(): (cleanup: () => Promise<unknown>) => void {
	afterEach(async () => {
		for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
	});
	return (cleanup) => cleanups.push(cleanup);
}

export function writerOn(url: () => string, name: string): Writer {
	const w = new Writer(name, url);
	cleanups.push(() => {
		w.stop();
		w.doc.destroy();
		return Promise.resolve();
	});
	return w;
}

export const sv = (doc: Y.Doc) => Buffer.from(Y.encodeStateVector(doc)).toString('base64');
export const text = (doc: Y.Doc, kind: WritableDoc = 'params') =>
	JSON.stringify([scratchList(doc, kind).toJSON(), scratchText(doc, kind).toJSON()]);

export async function readyz(url: string): Promise<number> {
	return (await fetch(`${url}/readyz`)).status;
}

/** Everyone connected, everything acknowledged, one state vector. */
export function converged(writers: Writer[], ms = 20_000): Promise<void> {
	return waitUntil(
		() =>
			writers.every((w) => w.ready && w.acked >= w.clock) &&
			writers.every((w) => sv(w.doc) === sv(writers[0]!.doc)),
		'every writer connected, acknowledged and converged',
		ms
	);
}

/** Whether `update` brings anything that `doc` lacks (integrated or pending). */
export function adds(doc: Y.Doc, update: Uint8Array): boolean {
	const scratch = new Y.Doc();
	Y.applyUpdate(scratch, Y.encodeStateAsUpdate(doc));
	const before = sv(scratch);
	Y.applyUpdate(scratch, update);
	const grew = sv(scratch) !== before || scratch.store.pendingStructs !== null;
	scratch.destroy();
	return grew;
}

/** A sync update frame, as a client sends it. */
export function updateFrame(update: Uint8Array): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, 0);
	syncProtocol.writeUpdate(e, update);
	return encoding.toUint8Array(e);
}

export async function rawSocket(url: string): Promise<WebSocket> {
	const ws = new WebSocket(url);
	ws.on('error', () => {});
	await new Promise((resolve, reject) => {
		ws.once('open', resolve);
		ws.once('close', reject);
	});
	cleanups.push(() => Promise.resolve(ws.terminate()));
	return ws;
}

/** What the cluster's storage holds for `room`, read directly. */
export async function storedDoc(cluster: Cluster, room: string): Promise<Y.Doc> {
	const storage = await PostgresStorage.open({ connectionString: cluster.databaseUrl });
	try {
		const loaded = await storage.loadDoc(room as RoomName);
		const doc = new Y.Doc();
		if (loaded.snapshot) Y.applyUpdate(doc, loaded.snapshot);
		for (const u of loaded.updates) Y.applyUpdate(doc, u.update);
		return doc;
	} finally {
		await storage.close();
	}
}
