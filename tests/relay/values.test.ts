// Deeply nested values at the relay (SPEC.md LIMIT7, LIMIT8, issue 19): an
// awareness state or update value nested past MAX_VALUE_DEPTH is refused when
// it arrives, with 4422, and nothing a client sends can throw in a timer.

import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '../../server/protocol/closeCodes.ts';
import { MAX_VALUE_DEPTH } from '../../server/protocol/values.ts';
import { updateFrame } from '../../server/relay/frames.ts';
import { deepAnyUpdate, deepCursorJson, rawAwarenessFrame } from '../helpers/deep.ts';
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

let harness: Harness | null = null;
const clients = testClients(() => harness!.url);
const { open, raw } = clients;

afterEach(async () => {
	clients.closeAll();
	await harness?.close();
	harness = null;
});

describe('deeply nested values', () => {
	it('[LIMIT7] a viewer’s awareness state nested 6,000 deep (12 KB) closes that socket with 4422; the others carry on', async () => {
		harness = await startRelay();
		const room = `${WS}/code`;
		const alice = open(room, 'alice', 'editor');
		const bob = open(room, 'bob', 'editor');
		await Promise.all([synced(alice), synced(bob)]);
		bob.awareness.setLocalStateField('cursor', { line: 1 });

		const attacker = raw(room, query('mallory', 'viewer'));
		await attacker.opened();
		const frame = rawAwarenessFrame(4242, 1, deepCursorJson(6000));
		expect(frame.length).toBeGreaterThan(12_000);
		expect(frame.length).toBeLessThan(64 * 1024);
		attacker.send(frame);
		expect(await attacker.closed).toBe(CloseCode.valueTooDeep);

		// The process and the room are alive: an edit and a presence change still travel.
		scratchText(alice.doc, 'code').insert(0, 'still here');
		await textBecomes(bob.doc, 'still here', 'code');
		alice.awareness.setLocalStateField('cursor', { line: 2 });
		await waitFor(
			() =>
				[...bob.awareness.getStates().values()].some(
					(s) => (s.cursor as { line?: number } | undefined)?.line === 2
				),
			'alice’s cursor at bob'
		);
		expect(bob.awareness.getStates().has(4242)).toBe(false);
	});

	it(`[LIMIT7] an awareness state exactly ${MAX_VALUE_DEPTH} deep is accepted, one deeper is refused`, async () => {
		harness = await startRelay();
		const room = `${WS}/code`;
		const alice = open(room, 'alice', 'editor');
		await synced(alice);
		// `{"cursor": [...]}`: the object is one level, so the cursor may nest 63.
		const ok = raw(room, query('carol', 'viewer'));
		await ok.opened();
		ok.send(rawAwarenessFrame(5151, 1, deepCursorJson(MAX_VALUE_DEPTH - 1)));
		await waitFor(() => alice.awareness.getStates().has(5151), 'the allowed state at alice');
		const tooDeep = raw(room, query('dave', 'viewer'));
		await tooDeep.opened();
		tooDeep.send(rawAwarenessFrame(6161, 1, deepCursorJson(MAX_VALUE_DEPTH)));
		expect(await tooDeep.closed).toBe(CloseCode.valueTooDeep);
	});

	it('[LIMIT7] an update with a value nested past the limit closes the writer with 4422 and stores nothing', async () => {
		harness = await startRelay();
		const room = `${WS}/params`;
		const alice = open(room, 'alice', 'editor');
		await synced(alice);
		const writer = raw(room, query('erin', 'editor'));
		await writer.opened();
		writer.send(updateFrame(deepAnyUpdate('config', 'k', 5000)));
		expect(await writer.closed).toBe(CloseCode.valueTooDeep);
		const handle = await harness.relay.open({ workspace: WS, doc: 'params' });
		try {
			expect(handle.doc.getMap('config').has('k')).toBe(false);
		} finally {
			handle.release();
		}
	});

	it('[LIMIT8] a state that cannot be encoded is dropped and its owner closed; the timer does not throw', async () => {
		harness = await startRelay();
		const room = `${WS}/code`;
		const alice = open(room, 'alice', 'editor');
		const bob = open(room, 'bob', 'editor');
		await Promise.all([synced(alice), synced(bob)]);
		// Server-side code (compat, a bug) puts a state JSON cannot encode into the room.
		const handle = await harness.relay.open({ workspace: WS, doc: 'code' });
		try {
			handle.awareness.setLocalState({ big: 10n });
			alice.awareness.setLocalStateField('cursor', { line: 3 });
			await waitFor(
				() =>
					[...bob.awareness.getStates().values()].some(
						(s) => (s.cursor as { line?: number } | undefined)?.line === 3
					),
				'alice’s cursor at bob'
			);
			expect(handle.awareness.getLocalState()).toBeNull();
		} finally {
			handle.release();
		}
	});
});
