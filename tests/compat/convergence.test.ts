// JSON and Yjs editors converge on the same text through the real server:
// the two-author trace (COMPAT9) and seeded random editing (COMPAT12).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { OtTextClient } from '../../server/compat/client.ts';
import { codePointLength, utf16Index, type Operation } from '../../server/compat/ot.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { connectPeer, docReaches, synced, type Peer } from '../helpers/yjs.ts';
import { waitUntil, withDeadline } from '../helpers/wait.ts';
import type { ApiClient } from '../helpers/http.ts';
import { JsonClient, textClient, type TextOp } from './jsonClient.ts';
import { mulberry32 as rng } from '../helpers/random.ts';
import { FRIENDSFOREVER, loadConcurrentTrace, TraceAgent } from './trace.ts';

let server: TestServer;
let team: Team;
const open: { close(): unknown }[] = [];

beforeEach(async () => {
	// The replays send as fast as acknowledgements come back, far above anyone's
	// typing and above the per-connection limit; the limit has its own test (COMPAT11).
	server = await startTestServer({
		memory: true,
		compatLimits: { messagesPerSecond: 1_000_000, messageBurst: 1_000_000 }
	});
	team = await makeTeam(server);
});

afterEach(async () => {
	for (const o of open.splice(0).reverse()) await o.close();
	await server.close();
});

async function json(client: ApiClient): Promise<JsonClient> {
	const token = await client.wsToken(team.workspace);
	const c = await JsonClient.connect(
		`${server.wsUrl}/ws/workspace/${team.workspace}?token=${token}`
	);
	open.push(c);
	return c;
}

async function peer(client: ApiClient, doc: string): Promise<Peer> {
	const p = await connectPeer(server, client, team.workspace, doc);
	open.push({ close: () => p.destroy() });
	await synced(p);
	return p;
}

function textOf(doc: Y.Doc, file: string): string {
	const t = doc.getMap<Y.Text>('files').get(file);
	return t ? t.toJSON() : '';
}

describe('convergence', () => {
	it('[COMPAT9] the two-author trace friendsforever, replayed by two JSON clients, ends at endContent', async () => {
		const trace = loadConcurrentTrace(FRIENDSFOREVER);
		const bob = await team.add('Bob', 'editor');
		const observer = await peer(team.owner, 'code');
		// Agent 0 connects first and so has the smaller client id: the trace puts
		// agent 0's text first where both typed at one place at once (OT3).
		const clients = [await json(team.owner), await json(bob.client)];
		const file = 'friends.md';
		const started = performance.now();
		let messages = 0;
		const agents = clients.map(
			(c, i) =>
				new TraceAgent(
					trace,
					i,
					new OtTextClient(c.clientId, '', 0, (revision, ops) => {
						messages++;
						c.send({ type: 'text_op', file, revision, ops });
					})
				)
		);
		const done = new Promise<void>((resolve, reject) => {
			clients.forEach((c, i) => {
				const agent = agents[i];
				if (!agent) return;
				c.onMessage((m) => {
					try {
						if (m.type === 'text_op' && m.file === file) {
							const t = m as TextOp;
							agent.receive({ kind: 'op', ops: t.ops, author: t.client_id, revision: t.revision });
						} else if (m.type === 'text_op_ack' && m.file === file) {
							agent.receive({ kind: 'ack', revision: m.revision as number });
						} else if (m.type === 'error') {
							reject(new Error(`server error: ${JSON.stringify(m)}`));
						}
						if (agents.every((a) => a.done)) resolve();
					} catch (err) {
						reject(err instanceof Error ? err : new Error(String(err)));
					}
				});
				void c.closed.then((code) => reject(new Error(`client ${i} closed with ${code}`)));
			});
		});
		for (const a of agents) a.pump();
		await withDeadline(done, 'the trace replay', 170_000);
		const elapsed = performance.now() - started;
		for (const a of agents) expect(a.client.text).toBe(trace.endContent);
		await docReaches(
			observer.doc,
			(d) => textOf(d, file) === trace.endContent,
			'the Yjs observer has endContent',
			20_000
		);
		console.log(
			`friendsforever through the server: ${trace.txnCount} txns, ${messages} text_op messages, ${elapsed.toFixed(0)} ms (${((elapsed * 1000) / trace.txnCount).toFixed(0)} µs/txn)`
		);
	}, 180_000);

	it('[COMPAT12] seeded random editing by JSON and Yjs clients converges', async () => {
		const seed = Number(process.env.COMPAT_SEED ?? Math.floor(Math.random() * 2 ** 31));
		console.log(`COMPAT12 seed: ${seed} (rerun with COMPAT_SEED=${seed})`);
		const random = rng(seed);
		const bob = await team.add('Bob', 'editor');
		const file = 'random.txt';
		const jsons = [await json(team.owner), await json(bob.client)];
		const ots = jsons.map((c) => textClient(c, file));
		const yjs = [await peer(team.owner, 'code'), await peer(bob.client, 'code')];
		// One JSON client creates the file, so the Yjs clients do not race to create it.
		ots[0]?.applyLocal([{ type: 'insert', position: 0, data: 'start\n' }]);
		for (const p of yjs)
			await docReaches(p.doc, (d) => textOf(d, file) === 'start\n', 'file created', 5000);

		const alphabet = ['a', 'b', 'c', ' ', '\n', 'é', '😀'];
		const pick = () => alphabet[Math.floor(random() * alphabet.length)] ?? 'a';
		function edit(len: number): Operation {
			const position = Math.floor(random() * (len + 1));
			if (random() < 0.3 && position < len) {
				return {
					type: 'delete',
					position,
					length: 1 + Math.floor(random() * Math.min(3, len - position))
				};
			}
			return { type: 'insert', position, data: pick() + (random() < 0.3 ? pick() : '') };
		}
		for (let step = 0; step < 400; step++) {
			const who = Math.floor(random() * 4);
			const ot = ots[who];
			const p = yjs[who - 2];
			if (ot) ot.applyLocal([edit(codePointLength(ot.text))]);
			else if (p) {
				const ytext = p.doc.getMap<Y.Text>('files').get(file);
				if (!ytext) throw new Error('file missing in a Yjs client');
				const s = ytext.toJSON();
				const op = edit(codePointLength(s));
				const at = utf16Index(s, op.position);
				if (op.type === 'insert') ytext.insert(at, op.data);
				else if (op.type === 'delete') ytext.delete(at, utf16Index(s, op.length, at, 0) - at);
			}
			// Let the network run now and then, so edits cross in flight.
			if (random() < 0.3) await new Promise((resolve) => setImmediate(resolve));
		}
		const converged = () => {
			const texts = [...ots.map((o) => o.text), ...yjs.map((p) => textOf(p.doc, file))];
			return ots.every((o) => o.settled) && texts.every((t) => t === texts[0]);
		};
		try {
			await waitUntil(converged, 'every editor to show the same text', 20_000);
		} catch (err) {
			console.log(`COMPAT12 failed with seed ${seed}`, {
				json: ots.map((o) => o.text),
				yjs: yjs.map((p) => textOf(p.doc, file))
			});
			throw err;
		}
		expect(ots[0]?.text.length).toBeGreaterThan(0);
	}, 60_000);
});
