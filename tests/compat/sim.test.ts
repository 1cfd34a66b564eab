// The OT server (RevisionLog) and the reference client (OtTextClient) in memory,
// with messages delivered in a seeded random order: OT8, OT9.
import { describe, expect, it } from 'vitest';
import { OtTextClient } from '../../server/compat/client.ts';
import {
	applyOperations,
	checkOperations,
	codePointLength,
	type Operation
} from '../../server/compat/ot.ts';
import { RevisionLog } from '../../server/compat/revisionLog.ts';
import { mulberry32 as rng } from '../helpers/random.ts';
import {
	FRIENDSFOREVER,
	loadConcurrentTrace,
	TraceAgent,
	type ServerTextMessage
} from './trace.ts';

/** The server side of one file, as CompatServer runs it, minus the sockets. */
class MemoryServer {
	text = '';
	readonly log = new RevisionLog();
	readonly toClient = new Map<number, ServerTextMessage[]>();
	readonly toServer: { client: number; revision: number; ops: Operation[] }[][] = [];

	receive(client: number, revision: number, ops: Operation[]): void {
		const r = this.log.rebase(ops, client, revision);
		if (!r.ok) throw new Error(r.message);
		const problem = checkOperations(codePointLength(this.text), r.ops);
		if (problem) throw new Error(problem);
		this.text = applyOperations(this.text, r.ops);
		const rev = this.log.append({ ops: r.ops, client });
		for (const [id, queue] of this.toClient) {
			queue.push(
				id === client
					? { kind: 'ack', revision: rev }
					: { kind: 'op', ops: r.ops, author: client, revision: rev }
			);
		}
	}
}

describe('server and clients in memory', () => {
	it('[OT8] three clients editing at random converge with the server (seeded)', () => {
		const base = Number(process.env.OT_SEED ?? Math.floor(Math.random() * 2 ** 31));
		for (let round = 0; round < 40; round++) {
			const seed = base + round;
			const random = rng(seed);
			const server = new MemoryServer();
			const inflight = new Map<number, { revision: number; ops: Operation[] }[]>();
			const clients = [11, 7, 2 ** 32 + 3].map((id) => {
				server.toClient.set(id, []);
				inflight.set(id, []);
				return new OtTextClient(id, '', 0, (revision, ops) =>
					inflight.get(id)?.push({ revision, ops })
				);
			});
			const alphabet = ['a', 'b', '😀', ' '];
			for (let step = 0; step < 400; step++) {
				const c = clients[Math.floor(random() * clients.length)];
				if (!c) continue;
				const action = random();
				const up = inflight.get(c.clientId) ?? [];
				const down = server.toClient.get(c.clientId) ?? [];
				if (action < 0.4) {
					const len = codePointLength(c.text);
					const position = Math.floor(random() * (len + 1));
					const ops: Operation[] =
						random() < 0.35 && position < len
							? [
									{
										type: 'delete',
										position,
										length: 1 + Math.floor(random() * Math.min(3, len - position))
									}
								]
							: [
									{
										type: 'insert',
										position,
										data: alphabet[Math.floor(random() * alphabet.length)] ?? 'a'
									}
								];
					c.applyLocal(ops);
				} else if (action < 0.7 && up.length > 0) {
					const m = up.shift();
					if (m) server.receive(c.clientId, m.revision, m.ops);
				} else if (down.length > 0) {
					const m = down.shift();
					if (m?.kind === 'ack') c.acknowledge(m.revision);
					else if (m) c.applyRemote(m.ops, m.author, m.revision);
				}
			}
			// drain: deliver everything until quiet
			for (let guard = 0; guard < 100_000; guard++) {
				let moved = false;
				for (const c of clients) {
					const m = inflight.get(c.clientId)?.shift();
					if (m) {
						server.receive(c.clientId, m.revision, m.ops);
						moved = true;
					}
					const d = server.toClient.get(c.clientId)?.shift();
					if (d?.kind === 'ack') c.acknowledge(d.revision);
					else if (d) c.applyRemote(d.ops, d.author, d.revision);
					moved ||= d !== undefined;
				}
				if (!moved) break;
			}
			for (const c of clients) {
				expect(c.text, `seed ${seed}: client ${c.clientId}`).toBe(server.text);
				expect(c.revision).toBe(server.log.revision);
			}
		}
	});

	it('[OT9] the two-author trace friendsforever replays to its endContent', () => {
		const trace = loadConcurrentTrace(FRIENDSFOREVER);
		const server = new MemoryServer();
		const ids = [1, 2];
		const pending: { client: number; revision: number; ops: Operation[] }[] = [];
		const agents = ids.map((id, agent) => {
			server.toClient.set(id, []);
			const client = new OtTextClient(id, '', 0, (revision, ops) =>
				pending.push({ client: id, revision, ops })
			);
			return new TraceAgent(trace, agent, client);
		});
		const random = rng(7);
		const started = performance.now();
		for (let guard = 0; guard < 10_000_000; guard++) {
			for (const a of agents) a.pump();
			// deliver one message somewhere, in a random order
			const choice = random();
			if (choice < 0.5 && pending.length > 0) {
				const m = pending.splice(Math.floor(random() * pending.length), 1)[0];
				if (m) server.receive(m.client, m.revision, m.ops);
			} else {
				const agent = agents[Math.floor(random() * agents.length)];
				const id = agent?.client.clientId ?? 0;
				const m = server.toClient.get(id)?.shift();
				if (m) agent?.receive(m);
			}
			if (agents.every((a) => a.done) && pending.length === 0) break;
		}
		console.log(
			`friendsforever in memory: ${trace.txnCount} txns in ${(performance.now() - started).toFixed(0)} ms`
		);
		expect(server.text.length).toBe(trace.endContent.length);
		expect(server.text).toBe(trace.endContent);
		for (const a of agents) expect(a.client.text).toBe(trace.endContent);
	});
});
