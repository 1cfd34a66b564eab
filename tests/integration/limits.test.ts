import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import {
	closeCodeOf,
	connectPeer,
	docReaches,
	openRaw,
	synced,
	type Peer
} from '../helpers/yjs.ts';
import { mulberry32 } from '../helpers/random.ts';

const MAX = 64 * 1024;
const SEED = Number(process.env.TEST_SEED ?? Date.now() % 1_000_000);

let s: TestServer;
let attacked: Team;
let bystanders: Team;
let b1: Peer;
let b2: Peer;
let token: string;
beforeAll(async () => {
	s = await startTestServer({ memory: true, maxMessageBytes: MAX });
	attacked = await makeTeam(s, 'Ann');
	bystanders = await makeTeam(s, 'Bea');
	token = await attacked.owner.wsToken(attacked.workspace);
	b1 = await connectPeer(s, bystanders.owner, bystanders.workspace, 'params');
	b2 = await connectPeer(s, bystanders.owner, bystanders.workspace, 'params');
	await Promise.all([synced(b1), synced(b2)]);
});
afterAll(async () => {
	b1.destroy();
	b2.destroy();
	await s.close();
});

let round = 0;
/** The other workspace still syncs: an edit on one peer reaches the other. */
async function bystandersStillSync(): Promise<void> {
	round += 1;
	const value = round;
	b1.doc.getMap('hyperparameters').set('epochs', value);
	await docReaches(
		b2.doc,
		(d) => d.getMap('hyperparameters').get('epochs') === value,
		`bystander round ${value}`
	);
}

async function sendAndExpectClose(frame: Uint8Array | string, codes: number[]): Promise<number> {
	const ws = await openRaw(`${s.wsUrl}/ws/${attacked.workspace}/params?token=${token}`);
	const closed = closeCodeOf(ws);
	ws.send(frame);
	const code = await closed;
	expect(codes, `close code ${code}`).toContain(code);
	return code;
}

function syncStep2(update: Uint8Array): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, 0);
	encoding.writeVarUint(e, 2);
	encoding.writeVarUint8Array(e, update);
	return encoding.toUint8Array(e);
}

describe('bad input on the wire', () => {
	it(`[WS4] random sync frames close that socket; another workspace keeps syncing (seed ${SEED})`, async () => {
		console.info(`[WS4] random frames seed: ${SEED} (TEST_SEED=${SEED} to replay)`);
		const next = mulberry32(SEED);
		for (let i = 0; i < 40; i++) {
			const length = 3 + Math.floor(next() * 200);
			const frame = new Uint8Array(length);
			for (let j = 0; j < length; j++) frame[j] = Math.floor(next() * 256);
			// A sync message (type 0) with a random step or payload, or an unknown message type.
			if (i % 2 === 0) {
				frame[0] = 0;
				frame[1] = next() < 0.5 ? 2 : 1;
			} else {
				frame[0] = 4 + Math.floor(next() * 90);
			}
			await sendAndExpectClose(frame, [1002, 1003, 1007]);
			if (i % 10 === 9) await bystandersStillSync();
		}
	});

	it('[WS4] truncated updates and text frames close that socket', async () => {
		const doc = new Y.Doc();
		doc.getMap('hyperparameters').set('learning_rate', 123);
		doc.getMap('hyperparameters').set('note', 'x'.repeat(100));
		const frame = syncStep2(Y.encodeStateAsUpdate(doc));
		for (const cut of [frame.length - 1, frame.length - 10, Math.floor(frame.length / 2), 4]) {
			await sendAndExpectClose(frame.slice(0, cut), [1002, 1007]);
		}
		await sendAndExpectClose('hello', [1003]);
		await bystandersStillSync();
		// Nothing of it was stored or applied.
		const good = await connectPeer(s, attacked.owner, attacked.workspace, 'params', { token });
		await synced(good);
		expect(good.doc.getMap('hyperparameters').get('learning_rate')).toBe(0.01);
		good.destroy();
	});

	it('[WS4] a message over MAX_MESSAGE_BYTES closes that socket with 1009', async () => {
		const big = new Uint8Array(MAX + 1024);
		big[0] = 0;
		big[1] = 2;
		await sendAndExpectClose(big, [1009]);
		await bystandersStillSync();
		expect((await s.client().get('/healthz')).status).toBe(200);
	});
});
