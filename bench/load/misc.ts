// The smaller jobs: cold load, seeding documents, re-sync loaders, idle
// connections and Ensemble's saved acknowledgement.

import { readFileSync } from 'node:fs';
import * as Y from 'yjs';
import { connect, type Client } from '../lib/clients.ts';
import { rawConnect, type RawConnection } from '../lib/rawclient.ts';
import { loadTrace } from '../lib/trace.ts';
import { nowMs } from '../lib/stats.ts';
import type {
	ColdLoadJob,
	ColdLoadResult,
	DurabilityJob,
	DurabilityResult,
	IdleJob,
	IdleResult,
	LoadersJob,
	LoadersResult,
	SeedJob,
	SeedResult
} from './jobs.ts';
import { mark, sleep, waitFor } from './marks.ts';
import { scratchText } from '../../tests/helpers/schemaRoots.ts';

/** Scenario 4: connect → synced with the whole text, one stored document after another. */
export async function coldLoad(job: ColdLoadJob): Promise<ColdLoadResult> {
	const expected = loadTrace(job.trace).endContent;
	const ms: number[] = [];
	let textOk = true;
	for (const ref of job.refs) {
		const t0 = performance.now();
		const client = connect(ref);
		await client.synced;
		const text = scratchText(client.doc);
		// Synced means the server's step 2 was applied: the text is complete now.
		ms.push(performance.now() - t0);
		textOk &&= text.toJSON() === expected;
		client.destroy();
	}
	return { ms, textOk };
}

/**
 * Uploads the updates to every room. Ensemble confirms with its saved
 * acknowledgement; the peers by echo: a second client sees the whole state.
 */
export async function seed(job: SeedJob): Promise<SeedResult> {
	const updates = job.updateFiles.map((file) => new Uint8Array(readFileSync(file)));
	const clients: Client[] = [];
	let confirmedBy: SeedResult['confirmedBy'] = 'echo';
	for (const ref of job.refs) {
		const client = connect(ref, { ack: true });
		await client.synced;
		clients.push(client);
		for (const update of updates) Y.applyUpdate(client.doc, update);
		const want = Y.decodeStateVector(Y.encodeStateVector(client.doc));
		if (ref.kind === 'ensemble') {
			confirmedBy = 'saved';
			await new Promise<void>((resolve) => {
				client.onSaved = (sv) => {
					for (const [id, clock] of want) if ((sv.get(id) ?? 0) < clock) return;
					resolve();
				};
			});
		} else {
			const check = connect(ref);
			await check.synced;
			const size = (doc: Y.Doc): number => Y.encodeStateVector(doc).length;
			await waitFor(
				() =>
					size(check.doc) === size(client.doc) &&
					scratchText(check.doc).length === scratchText(client.doc).length,
				120_000,
				`the seeded state of ${ref.room}`
			);
			check.destroy();
		}
	}
	const result: SeedResult = { rooms: job.refs.length, confirmedBy };
	if (job.hold) {
		await mark('seeded', result);
		await mark('close');
	}
	for (const client of clients) client.destroy();
	await sleep(100);
	return result;
}

/** Scenario 5's load: clients re-syncing a large document in a loop. */
export async function loaders(job: LoadersJob): Promise<LoadersResult> {
	await mark('ready');
	const deadline = performance.now() + job.durationMs;
	let syncs = 0;
	let bytes = 0;
	let errors = 0;
	const loop = async (): Promise<void> => {
		while (performance.now() < deadline) {
			const conn = rawConnect(job.ref, 60_000);
			try {
				const size = await conn.synced; // not `bytes += await …`: that reads bytes before the await
				bytes += size;
				syncs++;
			} catch (err) {
				errors++;
				process.stderr.write(`bench loaders: ${String(err)}\n`);
				await sleep(100);
			} finally {
				conn.close();
			}
		}
	};
	await Promise.all(Array.from({ length: job.clients }, loop));
	return { syncs, bytes, errors };
}

/** Issue 8: idle connections held open while the server's memory is read. */
export async function idle(job: IdleJob): Promise<IdleResult> {
	const conns: RawConnection[] = [];
	for (let start = 0; start < job.refs.length; start += job.connectBatch) {
		const batch = job.refs.slice(start, start + job.connectBatch).map((ref) => rawConnect(ref));
		conns.push(...batch);
		await Promise.all(batch.map((conn) => conn.synced));
	}
	await mark('connected', { connected: conns.length });
	await mark('close');
	for (const conn of conns) conn.close();
	await sleep(200);
	return { connected: conns.length };
}

/**
 * Scenario 6 (Ensemble): clients send one-character updates at `rate` per second
 * each; a `saved` state vector covers every update of a client up to its clock.
 */
export async function durability(job: DurabilityJob): Promise<DurabilityResult> {
	const clients = job.refs.map((ref) => connect(ref, { ack: true }));
	await Promise.all(clients.map((c) => c.synced));
	const samples: number[] = [];
	let acks = 0;
	const state = clients.map((client) => {
		const me = client.doc.clientID;
		const base = Y.getState(client.doc.store, me);
		const s = {
			client,
			text: scratchText(client.doc),
			base,
			saved: base,
			sentAt: [] as number[]
		};
		client.onSaved = (sv) => {
			acks++;
			const clock = sv.get(me) ?? 0;
			const now = nowMs();
			// One character is one clock tick: every clock below the saved one is durable.
			for (let c = s.saved; c < clock; c++) samples.push(now - (s.sentAt[c - base] ?? now));
			s.saved = Math.max(s.saved, clock);
		};
		return s;
	});
	await mark('ready');
	const t0 = performance.now();
	let sent = 0;
	while (performance.now() - t0 < job.durationMs) {
		const due = Math.floor(((performance.now() - t0) * job.rate) / 1000) + 1;
		for (const s of state) {
			while (s.sentAt.length < due) {
				s.sentAt.push(nowMs());
				s.text.insert(s.text.length, 'x');
				sent++;
			}
		}
		await sleep(2);
	}
	const elapsedMs = performance.now() - t0;
	const savedCount = (): number => state.reduce((a, s) => a + s.saved - s.base, 0);
	await waitFor(() => savedCount() >= sent, 10_000, 'the last saved acknowledgements').catch(
		(err: unknown) => process.stderr.write(`bench durability: ${String(err)}\n`)
	);
	for (const client of clients) client.destroy();
	return { sent, saved: savedCount(), samples, elapsedMs, acks };
}
