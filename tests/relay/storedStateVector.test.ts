// RELAY9: the state vector of a cold document, read from its stored pieces
// without building it, is the one the built document has.

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { storedStateVector } from '../../server/relay/stored.ts';
import { mulberry32 } from '../helpers/random.ts';
import { seedFromEnv } from './random.ts';

describe('stored state vector', () => {
	it('[RELAY9] equals the built doc’s for random logs of several writers, with a snapshot or without', () => {
		const seed = seedFromEnv();
		console.log(`stored state vector seed ${seed} (replay with RELAY_SEED=${seed})`);
		const rand = mulberry32(seed);
		for (let round = 0; round < 40; round++) {
			// The server's doc logs Yjs's own re-encoding of each change, as the relay stores it.
			const server = new Y.Doc();
			const log: Uint8Array[] = [];
			server.on('update', (u: Uint8Array) => log.push(u));
			const writers = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => new Y.Doc());
			const steps = 1 + Math.floor(rand() * 60);
			for (let i = 0; i < steps; i++) {
				const w = writers[Math.floor(rand() * writers.length)]!;
				// Writers catch up now and then, so their changes interleave and depend on each other.
				if (rand() < 0.3) Y.applyUpdate(w, Y.encodeStateAsUpdate(server, Y.encodeStateVector(w)));
				const text = w.getText('t');
				const before = Y.encodeStateVector(w);
				if (text.length > 0 && rand() < 0.3) {
					const at = Math.floor(rand() * text.length);
					text.delete(at, Math.min(text.length - at, 1 + Math.floor(rand() * 5)));
				} else {
					text.insert(
						Math.floor(rand() * (text.length + 1)),
						'abcdefgh'.slice(0, 1 + Math.floor(rand() * 8))
					);
				}
				if (rand() < 0.2) w.getMap('m').set(`k${Math.floor(rand() * 3)}`, i);
				Y.applyUpdate(server, Y.encodeStateAsUpdate(w, before));
			}
			// Stored as a snapshot of the first k changes and the updates after it, or as updates only.
			const k = rand() < 0.5 ? 0 : Math.floor(rand() * log.length);
			const snapshotDoc = new Y.Doc();
			for (const u of log.slice(0, k)) Y.applyUpdate(snapshotDoc, u);
			const pieces = k > 0 ? [Y.encodeStateAsUpdate(snapshotDoc), ...log.slice(k)] : log.slice();
			const built = new Y.Doc();
			for (const piece of pieces) Y.applyUpdate(built, piece);
			expect(Y.decodeStateVector(storedStateVector(pieces))).toEqual(
				Y.decodeStateVector(Y.encodeStateVector(built))
			);
		}
	});
});
