// A Redis blip while a process loads a document for the first time (issue 11,
// item 2; FAULT4): two real processes, the second one's link to Redis cut.

import { beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.ts';
import { ApiClient } from '../helpers/http.ts';
import { servicesAvailable } from '../helpers/services.ts';
import { waitUntil } from '../helpers/wait.ts';
import { converged, readyz, useCleanups, writerOn } from './support.ts';

let available = false;
beforeAll(async () => {
	available = await servicesAvailable('tests/faults/bus.test.ts');
});

const cleanup = useCleanups();

describe('bus', { timeout: 120_000 }, () => {
	it('[FAULT4] a Redis blip while a process loads a document for the first time: /readyz is 503 meanwhile, and once Redis is back the document loads there and everyone converges', async ({
		skip
	}) => {
		if (!available) skip();
		const cluster = await Cluster.start(2);
		cleanup(() => cluster.close());
		const [a, b] = [cluster.member(0), cluster.member(1)];
		const owner = new ApiClient(a.url);
		await owner.signup('Olivia', 'olivia@example.com');
		const workspace = (await owner.createWorkspace()).id;
		const token = await owner.wsToken(workspace);
		const room = `${workspace}/params`;
		const onA = writerOn(() => `${a.wsUrl}/ws/${room}?ack=1&token=${token}`, 'a');
		await waitUntil(() => onA.ready, 'the writer on A');

		// B has never loaded the document; its link to Redis drops as the writer arrives.
		b.redis.cut();
		const onB = writerOn(() => `${b.wsUrl}/ws/${room}?ack=1&token=${token}`, 'b');
		let n = 0;
		const random = () => (n++ % 7) / 7;
		onB.edit(random);
		onA.edit(random);
		await waitUntil(async () => (await readyz(b.url)) === 503, '/readyz 503 on B', 5000);
		// Long enough for the load's subscription to fail (ioredis gives up on a
		// command after two reconnect attempts): the writer is turned away twice.
		await waitUntil(() => onB.reconnects >= 2, 'the load on B failing while Redis is away');
		expect(onB.ready).toBe(false);
		b.redis.heal();
		const healed = Date.now();
		await waitUntil(() => onB.ready, 'the document loads on B once Redis is back', 10_000);
		onB.edit(random);
		onA.edit(random);
		await converged([onA, onB]);
		console.log(`[FAULT4] converged ${Date.now() - healed} ms after Redis came back`);
		await waitUntil(async () => (await readyz(b.url)) === 200, '/readyz 200 on B');
	});
});
