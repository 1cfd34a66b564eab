// Deterministic in-memory test (STYLE.md 5): two relays whose bus delivers
// messages in a seeded random order and loses some; server-side writes on both
// must still converge, through sequence gaps, heartbeats and re-syncs (BUS2, BUS3).

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { Bus, BusHandler } from '../../server/relay/bus.ts';
import { Relay } from '../../server/relay/relay.ts';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { silentLogger, systemClock } from '../../server/runtime.ts';
import { WS, waitFor } from './helpers.ts';
import { mulberry32 } from '../helpers/random.ts';
import { seedFromEnv } from './random.ts';
import { scratchText } from '../helpers/schemaRoots.ts';

/** A hub that holds every message until `step()` delivers (or loses) one picked by the seed. */
class SeededHub {
	readonly #channels = new Map<string, Set<BusHandler>>();
	readonly queue: Array<{ channel: string; message: Uint8Array }> = [];
	readonly #rand: () => number;
	lossRate = 0;
	lost = 0;

	constructor(rand: () => number) {
		this.#rand = rand;
	}

	connect(): Bus {
		return {
			publish: (channel, message) => {
				this.queue.push({ channel, message: message.slice() });
				return Promise.resolve();
			},
			subscribe: (channel, handler) => {
				let set = this.#channels.get(channel);
				if (!set) this.#channels.set(channel, (set = new Set()));
				const wrapped: BusHandler = (m) => handler(m);
				set.add(wrapped);
				return Promise.resolve(() => set.delete(wrapped));
			},
			onGap: () => () => {},
			close: () => Promise.resolve()
		};
	}

	step(): void {
		const i = Math.floor(this.#rand() * this.queue.length);
		const [next] = this.queue.splice(i, 1);
		if (!next) return;
		if (this.#rand() < this.lossRate) {
			this.lost++;
			return;
		}
		for (const handler of this.#channels.get(next.channel) ?? []) handler(next.message);
	}
}

describe('seeded bus delivery', () => {
	it('[BUS2] relays converge although the bus reorders and loses messages', async () => {
		const seed = seedFromEnv();
		console.log(`delivery seed ${seed} (replay with RELAY_SEED=${seed})`);
		const rand = mulberry32(seed);
		const hub = new SeededHub(rand);
		hub.lossRate = 0.15;
		const storage = new MemoryStorage();
		const relays = [0, 1].map(
			() =>
				new Relay({
					storage,
					bus: hub.connect(),
					clock: systemClock,
					logger: silentLogger,
					limits: { busHeartbeatMs: 5 }
				})
		);
		const key = { workspace: WS, doc: 'params' as const };
		const handles = await Promise.all(relays.map((r) => r.open(key)));
		try {
			for (let i = 0; i < 60; i++) {
				const which = Math.floor(rand() * 2);
				await relays[which]!.write(key, null, (doc) => {
					const text = scratchText(doc);
					text.insert(Math.floor(rand() * (text.length + 1)), String.fromCharCode(97 + (i % 26)));
				});
				while (hub.queue.length > 0 && rand() < 0.7) hub.step();
			}
			// The bus recovers: everything still queued is delivered, heartbeats included.
			hub.lossRate = 0;
			const [a, b] = handles.map((h) => h.doc) as [Y.Doc, Y.Doc];
			await waitFor(() => {
				while (hub.queue.length > 0) hub.step();
				return scratchText(a).toJSON() === scratchText(b).toJSON() && scratchText(a).length === 60;
			}, `convergence (seed ${seed})`);
			const stored = new Y.Doc();
			for (const u of (await storage.loadDoc(`${WS}/params`)).updates)
				Y.applyUpdate(stored, u.update);
			expect(scratchText(stored).toJSON()).toBe(scratchText(a).toJSON());
			console.log(
				`lost ${hub.lost} messages; re-syncs ${relays[0]!.stats().resyncs + relays[1]!.stats().resyncs}`
			);
		} finally {
			for (const h of handles) h.release();
			for (const r of relays) await r.close();
		}
	});
});
