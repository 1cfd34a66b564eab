// The bus heals by itself (SPEC.md BUS4): a Redis blip while a document first
// loads, or while the relay starts, leaves nothing broken once Redis is back.
// Real Redis behind a TCP proxy that the test cuts.

import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { RedisBus } from '../../server/relay/redisBus.ts';
import { silentLogger } from '../../server/runtime.ts';
import { CloseCode } from '../../server/protocol/closeCodes.ts';
import { MessageType } from '../../server/protocol/messages.ts';
import { syncStep1Frame } from '../../server/relay/frames.ts';
import type { UserId } from '../../server/protocol/ids.ts';
import { RawClient, WS, query, startRelay, waitFor, type Harness } from './helpers.ts';
import { REDIS_URL, redisAvailable } from './redisAvailable.ts';
import { FaultProxy } from '../helpers/faultProxy.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

let haveRedis = false;
beforeAll(async () => {
	haveRedis = await redisAvailable('bus healing (BUS4)');
});

async function proxiedBus(
	prefix = `heal-${randomUUID()}:`
): Promise<{ bus: RedisBus; proxy: FaultProxy }> {
	const proxy = await FaultProxy.start(REDIS_URL, 6379);
	const url = proxy.url(REDIS_URL);
	const bus = new RedisBus({
		url,
		logger: silentLogger,
		prefix,
		commandTimeoutMs: 500
	});
	cleanups.push(async () => {
		await bus.close();
		await proxy.close();
	});
	return { bus, proxy };
}

function track(h: Harness): Harness {
	cleanups.push(() => h.close());
	return h;
}

async function syncs(h: Harness, room: string, user: string): Promise<RawClient> {
	const c = new RawClient(h.url, room, query(user, 'editor', true));
	cleanups.push(() => Promise.resolve(c.close()));
	await c.opened();
	c.send(syncStep1Frame(new Uint8Array([0])));
	await c.next(MessageType.saved);
	return c;
}

describe('the bus heals', () => {
	it('[BUS4] a Redis blip during a document’s first load closes with 1013, and the document loads once Redis is back', async ({
		skip
	}) => {
		if (!haveRedis) skip();
		const { bus, proxy } = await proxiedBus();
		const h = track(await startRelay({ storage: new MemoryStorage(), bus }));
		const room = `${WS}/params`;
		proxy.cut();
		await waitFor(() => !h.relay.stats().connections, 'nothing connected');
		const during = new RawClient(h.url, room, query('alice', 'editor', true));
		cleanups.push(() => Promise.resolve(during.close()));
		expect(await during.closed).toBe(CloseCode.tryAgainLater);
		expect(await bus.healthy()).toBe(false);
		proxy.heal();
		await waitFor(() => h.relay.listening(), 'still listening on the control channel', 10_000);
		// The failed subscription was not kept: the document loads here now.
		const c = await syncs(h, room, 'bob');
		expect(c.socket.readyState).toBe(c.socket.OPEN);
	});

	it('[BUS4] a relay started while Redis is down subscribes to the control channel once it is back (listening() false meanwhile)', async ({
		skip
	}) => {
		if (!haveRedis) skip();
		const storage = new MemoryStorage();
		const prefix = `heal-${randomUUID()}:`;
		const first = await proxiedBus(prefix);
		first.proxy.cut();
		const h = track(await startRelay({ storage, bus: first.bus, waitReady: false }));
		expect(h.relay.listening()).toBe(false);
		first.proxy.heal();
		await h.relay.ready();
		expect(h.relay.listening()).toBe(true);
		// A role change made on another process now reaches it.
		const other = await proxiedBus(prefix);
		const h2 = track(await startRelay({ storage, bus: other.bus }));
		const room = `${WS}/params`;
		const c = await syncs(h, room, 'carol');
		await h2.relay.setMemberRole(WS, 'carol' as UserId, null);
		expect(await c.closed).toBe(CloseCode.forbidden);
	});
});
