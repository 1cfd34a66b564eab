// Scenarios 2, 3 and 5's probe: clients in rooms, some of them writers that
// insert a stamp `#<sendTime>;` at `rate` per second (moving their cursor in
// awareness with it); every client parses the stamps it receives from others.

import { connect, type Client } from '../lib/clients.ts';
import { nowMs } from '../lib/stats.ts';
import type { ClientsJob, ClientsResult } from './jobs.ts';
import { cpuUs, mark, sleep } from './marks.ts';
import { scratchText } from '../../tests/helpers/schemaRoots.ts';

const STAMP = /#(\d+\.\d+);/g;

export async function clients(job: ClientsJob): Promise<ClientsResult> {
	const all: { client: Client; writer: boolean; room: number }[] = [];
	const samples: number[] = [];
	let awarenessUpdates = 0;
	let from = Number.POSITIVE_INFINITY;

	const plan: { room: number; writer: boolean }[] = [];
	job.rooms.forEach((_, room) => {
		for (let i = 0; i < job.clientsPerRoom; i++)
			plan.push({ room, writer: i < job.writersPerRoom });
	});
	for (let start = 0; start < plan.length; start += job.connectBatch) {
		const batch = plan.slice(start, start + job.connectBatch).map(({ room, writer }) => {
			const ref = job.rooms[room];
			if (!ref) throw new Error(`no room ${room}`);
			const client = connect(ref, { ack: job.ack });
			const text = scratchText(client.doc);
			text.observe((event) => {
				if (event.transaction.local) return;
				const now = nowMs();
				for (const op of event.delta) {
					if (typeof op.insert !== 'string') continue;
					for (const match of op.insert.matchAll(STAMP)) {
						const sentAt = Number(match[1]);
						if (sentAt >= from) samples.push(now - sentAt);
					}
				}
			});
			client.awareness.on('update', () => {
				awarenessUpdates++;
			});
			if (job.presence) {
				client.awareness.setLocalState({
					user: { name: `bench ${all.length}`, color: '#30bced' }
				});
			} else {
				client.awareness.setLocalState(null);
			}
			const entry = { client, writer, room };
			all.push(entry);
			return client.synced;
		});
		await Promise.all(batch);
	}

	from = (await mark<{ from: number } | null>('connected'))?.from ?? nowMs();
	// Stamps count from `from` on: start writing exactly then.
	await sleep(Math.max(0, from - nowMs()));
	awarenessUpdates = 0;
	const cpu0 = cpuUs();
	const t0 = performance.now();
	const writers = all.filter((entry) => entry.writer);
	let sent = 0;
	const timers: NodeJS.Timeout[] = [];
	const interval = 1000 / job.rate;
	writers.forEach((entry, i) => {
		const text = scratchText(entry.client.doc);
		const tick = (): void => {
			const at = nowMs();
			// Typing at the end of the writer's own line keeps the document small and realistic.
			const index = text.length;
			entry.client.doc.transact(() => text.insert(index, `#${at.toFixed(3)};`));
			if (job.cursor) entry.client.awareness.setLocalStateField('cursor', { index, at });
			sent++;
		};
		// Spread writers over the interval so rooms do not all type in the same millisecond.
		const offset = (i / Math.max(1, writers.length)) * interval;
		timers.push(
			setTimeout(() => {
				tick();
				timers.push(setInterval(tick, interval));
			}, offset)
		);
	});
	if (job.renewAtMs !== null) {
		timers.push(
			setTimeout(() => {
				// What y-protocols does every 15 s: re-send the unchanged local state.
				for (const { client } of all) {
					const state = client.awareness.getLocalState();
					if (state) client.awareness.setLocalState(state);
				}
			}, job.renewAtMs)
		);
	}
	await sleep(job.durationMs);
	for (const timer of timers) clearInterval(timer);
	// Let the last stamps arrive (bounded).
	await sleep(Math.min(2000, Math.max(300, interval * 2)));
	const result: ClientsResult = {
		samples,
		sent,
		awarenessUpdates,
		clientCpuUs: cpuUs() - cpu0,
		wallMs: performance.now() - t0
	};
	for (const { client } of all) client.destroy();
	return result;
}
