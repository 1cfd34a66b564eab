// The bus bookkeeping of one room (BUS2, BUS5), on an in-memory bus with a clock
// moved by hand: what it remembers of other processes, and when it re-syncs.

import { describe, expect, it } from 'vitest';
import { MemoryHub } from '../../server/relay/bus.ts';
import { BusKind, docChannel, encodeBusMessage } from '../../server/relay/busCodec.ts';
import { DocBus, ORIGIN_TTL_MS } from '../../server/relay/docBus.ts';
import { newStats } from '../../server/relay/stats.ts';
import { silentLogger } from '../../server/runtime.ts';
import type { RoomName } from '../../server/protocol/docs.ts';
import type { DocumentStore, LoadedDoc } from '../../server/storage/types.ts';
import { ManualClock } from '../helpers/server.ts';

const NAME = 'w1/params' as RoomName;

function setup() {
	const hub = new MemoryHub();
	const clock = new ManualClock();
	let loads = 0;
	// Only loadDoc is used by DocBus; the rest of the store is not reached.
	const store = {
		loadDoc: () => {
			loads++;
			const empty: LoadedDoc = { snapshot: null, updates: [], lastSeq: 0 };
			return Promise.resolve(empty);
		}
	} as unknown as DocumentStore;
	const bus = new DocBus(
		{
			bus: hub.connect(),
			store,
			name: NAME,
			origin: 'me/1',
			clock,
			logger: silentLogger,
			stats: newStats()
		},
		{ applyRemote: () => true, applyRemoteAwareness: () => {}, applyStored: () => {} }
	);
	const other = hub.connect();
	const send = (origin: string, seq: number, kind: BusKind = BusKind.heartbeat) =>
		other.publish(
			docChannel(NAME),
			encodeBusMessage({ kind, origin, seq, payload: new Uint8Array(0) })
		);
	return { bus, clock, send, loads: () => loads };
}

describe('one room on the bus', () => {
	it('[BUS5] origins silent for a minute are forgotten: reloads elsewhere and dead processes do not pile up', async () => {
		const { bus, clock, send } = setup();
		await bus.subscribe();
		for (let i = 0; i < 200; i++) await send(`dead-process-${i}/1`, 3);
		expect(bus.origins).toBe(200);
		clock.advance(ORIGIN_TTL_MS / 2);
		await send('alive/1', 1, BusKind.update);
		clock.advance(ORIGIN_TTL_MS / 2 + 1);
		bus.heartbeat();
		expect(bus.origins).toBe(1);
		bus.close();
	});

	it('[BUS5] a forgotten origin that speaks again re-syncs the room when its seq says it published meanwhile', async () => {
		const { bus, clock, send, loads } = setup();
		await bus.subscribe();
		await send('p/1', 1, BusKind.update);
		expect(loads()).toBe(0);
		clock.advance(ORIGIN_TTL_MS + 1);
		bus.heartbeat();
		expect(bus.origins).toBe(0);
		await send('p/1', 7);
		expect(loads()).toBe(1);
		bus.close();
	});
});
