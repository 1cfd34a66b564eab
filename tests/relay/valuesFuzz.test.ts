// Fuzz: awareness states of any depth and size against one live relay (SPEC.md
// LIMIT6, LIMIT7, LIMIT8). The relay must survive every one, refuse what is too
// large (1009) or too deep (4422), and relay the rest. Replay with RELAY_SEED.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../server/protocol/closeCodes.ts';
import { MAX_VALUE_DEPTH } from '../../server/protocol/values.ts';
import { DEFAULT_LIMITS } from '../../server/relay/limits.ts';
import { rawAwarenessUpdate } from '../helpers/deep.ts';
import { awarenessFrame } from '../../server/relay/frames.ts';
import { seedFromEnv } from './random.ts';
import {
	WS,
	query,
	startRelay,
	synced,
	testClients,
	textBecomes,
	waitFor,
	type Harness
} from './helpers.ts';
import { scratchText } from '../helpers/schemaRoots.ts';

const ROOM = `${WS}/code`;
let harness: Harness;
const clients = testClients(() => harness.url);

beforeAll(async () => {
	harness = await startRelay();
});

afterAll(async () => {
	clients.closeAll();
	await harness.close();
});

/** `{"cursor": …}` with `depth` containers (arrays or objects) below it and `pad` characters at the leaf. */
function stateJson(depth: number, objects: boolean, pad: number): string {
	const open = objects ? '{"a":' : '[';
	const close = objects ? '}' : ']';
	return `{"cursor":${open.repeat(depth)}"${'x'.repeat(pad)}"${close.repeat(depth)}}`;
}

describe('awareness fuzz', () => {
	it('[LIMIT7] states of any depth and size: too large closes 1009, too deep 4422, the rest reach others, the relay survives', async () => {
		const seed = seedFromEnv();
		console.log(`awareness fuzz seed ${seed} (RELAY_SEED=${seed} to replay)`);
		const observer = clients.open(ROOM, 'olga', 'editor');
		await synced(observer);
		let nextId = 1_000;
		const outcomes = { accepted: 0, tooDeep: 0, tooLarge: 0 };
		await fc.assert(
			fc.asyncProperty(
				fc.oneof(
					fc.integer({ min: 0, max: MAX_VALUE_DEPTH + 2 }),
					fc.integer({ min: 0, max: 40_000 })
				),
				fc.boolean(),
				fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 80_000 })),
				fc.constantFrom('viewer', 'editor', 'owner'),
				async (depth, objects, pad, role) => {
					const clientID = nextId++;
					const update = rawAwarenessUpdate(clientID, 1, stateJson(depth, objects, pad));
					const c = clients.raw(ROOM, query(`u${clientID}`, role));
					await c.opened();
					c.send(awarenessFrame(update));
					// Size is checked first (LIMIT6), then depth (LIMIT7): the object itself is one level.
					if (update.length > DEFAULT_LIMITS.maxAwarenessBytes) {
						expect(await c.closed).toBe(CloseCode.tooLarge);
						outcomes.tooLarge++;
						expect(observer.awareness.getStates().has(clientID)).toBe(false);
					} else if (1 + depth > MAX_VALUE_DEPTH) {
						expect(await c.closed).toBe(CloseCode.valueTooDeep);
						outcomes.tooDeep++;
						expect(observer.awareness.getStates().has(clientID)).toBe(false);
					} else {
						await waitFor(
							() => observer.awareness.getStates().has(clientID),
							`state ${clientID} (depth ${depth}, pad ${pad}) at the observer`
						);
						outcomes.accepted++;
						c.close();
					}
				}
			),
			{ seed, numRuns: 60 }
		);
		console.log(`awareness fuzz outcomes ${JSON.stringify(outcomes)}`);
		// Alive after all of it: an edit still travels between two stock clients.
		const a = clients.open(ROOM, 'alice', 'editor');
		const b = clients.open(ROOM, 'bob', 'editor');
		await Promise.all([synced(a), synced(b)]);
		scratchText(a.doc, 'code').insert(0, `after seed ${seed}`);
		await textBecomes(b.doc, `after seed ${seed}`, 'code');
	});
});
