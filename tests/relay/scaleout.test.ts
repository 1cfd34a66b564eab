// Two relays sharing a store and a bus, as two processes would (SPEC.md BUS2, BUS3):
// run over MemoryHub and over a real Redis.

import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { WebsocketProvider } from 'y-websocket';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { MemoryHub, type Bus, type BusHandler } from '../../server/relay/bus.ts';
import { RedisBus } from '../../server/relay/redisBus.ts';
import { silentLogger } from '../../server/runtime.ts';
import type { RelayLimits } from '../../server/relay/limits.ts';
import type { UserId } from '../../server/protocol/ids.ts';
import {
	RawClient,
	WS,
	provider,
	query,
	startRelay,
	synced,
	textBecomes,
	waitFor,
	type Harness
} from './helpers.ts';
import { REDIS_URL, redisAvailable } from './redisAvailable.ts';
import { scratchText, type WritableDoc } from '../helpers/schemaRoots.ts';

interface Cluster {
	readonly one: Harness;
	readonly two: Harness;
	readonly buses: Bus[];
}

const cleanups: Array<() => Promise<void>> = [];
const providers: WebsocketProvider[] = [];

afterEach(async () => {
	for (const p of providers.splice(0)) p.destroy();
	for (const c of cleanups.splice(0).reverse()) await c();
});

function open(
	h: Harness,
	room: string,
	user: string,
	role: 'owner' | 'editor' | 'viewer'
): WebsocketProvider {
	const p = provider(h.url, room, user, role);
	providers.push(p);
	return p;
}

async function cluster(makeBus: () => Bus, limits: Partial<RelayLimits> = {}): Promise<Cluster> {
	const storage = new MemoryStorage();
	const buses = [makeBus(), makeBus()];
	const one = await startRelay({ storage, bus: buses[0], limits });
	const two = await startRelay({ storage, bus: buses[1], limits });
	cleanups.push(async () => {
		await one.close();
		await two.close();
		for (const b of buses) await b.close();
	});
	return { one, two, buses };
}

function scaleOutSuite(name: string, makeBus: () => () => Bus): void {
	describe(`two relays over ${name}`, () => {
		it('[BUS3] clients on different relays converge on params and code', async () => {
			const { one, two } = await cluster(makeBus());
			for (const doc of ['params', 'code']) {
				const a = open(one, `${WS}/${doc}`, 'alice', 'editor');
				const b = open(two, `${WS}/${doc}`, 'bob', 'editor');
				await Promise.all([synced(a), synced(b)]);
				const kind = doc as WritableDoc;
				scratchText(a.doc, kind).insert(0, 'from one ');
				scratchText(b.doc, kind).insert(0, 'from two ');
				await waitFor(
					() =>
						scratchText(a.doc, kind).length === 18 &&
						scratchText(a.doc, kind).toJSON() === scratchText(b.doc, kind).toJSON(),
					'convergence across relays'
				);
			}
			expect(one.relay.stats().busMessagesIn).toBeGreaterThan(0);
		});

		it('[BUS3] awareness crosses relays, stamped with the real identity', async () => {
			const { one, two } = await cluster(makeBus());
			const a = open(one, `${WS}/code`, 'alice', 'editor');
			const b = open(two, `${WS}/code`, 'bob', 'viewer');
			await Promise.all([synced(a), synced(b)]);
			b.awareness.setLocalState({
				user: { id: 'alice', name: 'Alice' },
				current_view: 'code_editor'
			});
			await waitFor(() => a.awareness.getStates().has(b.awareness.clientID), 'remote presence');
			expect(a.awareness.getStates().get(b.awareness.clientID)?.user).toMatchObject({
				id: 'bob',
				role: 'viewer'
			});
			await waitFor(
				() => one.relay.presentUsers(WS).some((u) => u.id === 'bob'),
				'bob listed on one'
			);
			b.destroy();
			await waitFor(
				() => !a.awareness.getStates().has(b.awareness.clientID),
				'remote presence removed'
			);
		});

		it('[BUS3] a role change made on one relay closes a connection on the other within 1 s', async () => {
			const { one, two } = await cluster(makeBus());
			const bob = new RawClient(two.url, `${WS}/params`, query('bob', 'editor'));
			cleanups.push(() => Promise.resolve(bob.close()));
			await bob.opened();
			await bob.next(0);
			const started = Date.now();
			await one.relay.setMemberRole(WS, 'bob' as UserId, null);
			expect(await bob.closed).toBe(4403);
			expect(Date.now() - started).toBeLessThan(1000);
		});
	});
}

/** A bus endpoint that loses chosen publishes, as a network blip would. */
class LossyBus implements Bus {
	readonly inner: Bus;
	drop = false;
	constructor(inner: Bus) {
		this.inner = inner;
	}
	publish(channel: string, message: Uint8Array): Promise<void> {
		return this.drop ? Promise.resolve() : this.inner.publish(channel, message);
	}
	subscribe(channel: string, handler: BusHandler): Promise<() => void> {
		return this.inner.subscribe(channel, handler);
	}
	onGap(listener: () => void): () => void {
		return this.inner.onGap(listener);
	}
	close(): Promise<void> {
		return this.inner.close();
	}
}

scaleOutSuite('a memory hub', () => {
	const hub = new MemoryHub();
	return () => hub.connect();
});

describe('lost bus messages', () => {
	it('[BUS2] a lost message is noticed by the next sequence number and the document re-syncs from storage', async () => {
		const hub = new MemoryHub();
		const lossy = new LossyBus(hub.connect());
		let first = true;
		const { one, two } = await cluster(() => {
			if (first) {
				first = false;
				return lossy;
			}
			return hub.connect();
		});
		const a = open(one, `${WS}/params`, 'alice', 'editor');
		const b = open(two, `${WS}/params`, 'bob', 'editor');
		await Promise.all([synced(a), synced(b)]);
		scratchText(a.doc).insert(0, 'a');
		await textBecomes(b.doc, 'a');
		lossy.drop = true;
		scratchText(a.doc).insert(1, 'b');
		await waitFor(() => one.relay.stats().updatesStored === 2, 'second update stored');
		lossy.drop = false;
		scratchText(a.doc).insert(2, 'c');
		await textBecomes(b.doc, 'abc');
		expect(two.relay.stats().resyncs).toBe(1);
	});

	it('[BUS2] the loss of the last message is noticed by the heartbeat that follows it', async () => {
		const hub = new MemoryHub();
		const lossy = new LossyBus(hub.connect());
		let first = true;
		const makeBus = (): Bus => {
			if (!first) return hub.connect();
			first = false;
			return lossy;
		};
		const { one, two } = await cluster(makeBus, { busHeartbeatMs: 30 });
		const a = open(one, `${WS}/params`, 'alice', 'editor');
		const b = open(two, `${WS}/params`, 'bob', 'editor');
		await Promise.all([synced(a), synced(b)]);
		scratchText(a.doc).insert(0, 'a');
		await textBecomes(b.doc, 'a');
		lossy.drop = true;
		scratchText(a.doc).insert(1, 'b');
		await waitFor(() => one.relay.stats().updatesStored === 2, 'second update stored');
		lossy.drop = false;
		await textBecomes(b.doc, 'ab');
		expect(two.relay.stats().resyncs).toBeGreaterThanOrEqual(1);
	});
});

const redisUp = await redisAvailable('relay scale-out over Redis');
describe.skipIf(!redisUp)('redis', () => {
	scaleOutSuite('Redis', () => {
		const prefix = `ensemble-test-${randomUUID()}:`;
		return () => new RedisBus({ url: REDIS_URL, logger: silentLogger, prefix });
	});

	it('[BUS2] after the Redis subscription drops and comes back, loaded documents re-sync from storage', async () => {
		const prefix = `ensemble-test-${randomUUID()}:`;
		const { one, two } = await cluster(
			() => new RedisBus({ url: REDIS_URL, logger: silentLogger, prefix })
		);
		const a = open(one, `${WS}/params`, 'alice', 'editor');
		const b = open(two, `${WS}/params`, 'bob', 'editor');
		await Promise.all([synced(a), synced(b)]);
		const admin = new Redis(REDIS_URL);
		cleanups.push(async () => {
			await admin.quit();
		});
		const list = (await admin.client('LIST')) as string;
		const ids = list
			.split('\n')
			.filter((line) => line.includes(` name=${prefix}sub `))
			.map((line) => /id=(\d+)/.exec(line)?.[1])
			.filter((id): id is string => id !== undefined);
		expect(ids.length).toBe(2);
		for (const id of ids) await admin.client('KILL', 'ID', id);
		await waitFor(
			() => two.relay.stats().resyncs >= 1 && one.relay.stats().resyncs >= 1,
			'resync after reconnect'
		);
		scratchText(a.doc).insert(0, 'after reconnect');
		await textBecomes(b.doc, 'after reconnect');
	});
});
