// Raw clients sending updates before the ones they depend on (issue 11, item 1;
// FAULT6): two real processes, the missing update arriving over the bus.

import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ackClient } from '../helpers/ackClient.ts';
import { Cluster } from '../helpers/cluster.ts';
import { ApiClient } from '../helpers/http.ts';
import { servicesAvailable } from '../helpers/services.ts';
import { waitUntil } from '../helpers/wait.ts';
import { adds, rawSocket, storedDoc, sv, updateFrame, useCleanups } from './support.ts';
import { scratchList, scratchText } from '../helpers/schemaRoots.ts';

let available = false;
beforeAll(async () => {
	available = await servicesAvailable('tests/faults/outOfOrder.test.ts');
});

const cleanup = useCleanups();

describe('outOfOrder', { timeout: 120_000 }, () => {
	it('[FAULT6] updates sent before the ones they depend on: nobody receives bytes storage does not hold, sync replies hold only stored state, and once the missing update arrives from another process everything converges', async ({
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
		const on = (server: { wsUrl: string }) => `${server.wsUrl}/ws/${room}?ack=1&token=${token}`;

		// A source document makes two updates, the second depending on the first.
		const source = new Y.Doc();
		const updates: Uint8Array[] = [];
		source.on('update', (u: Uint8Array) => updates.push(u));
		scratchText(source).insert(0, 'hello');
		scratchText(source).insert(5, ' world');
		const [first, second] = updates;
		if (!first || !second) throw new Error('no updates');

		const readerDoc = new Y.Doc();
		const reader = ackClient(on(a), readerDoc);
		cleanup(() => Promise.resolve(reader.close()));
		await reader.synced;

		// The second arrives first, on A: it waits (Yjs holds it as pending).
		const early = await rawSocket(on(a));
		early.send(updateFrame(second));
		const lateDoc = new Y.Doc();
		const late = ackClient(on(a), lateDoc);
		cleanup(() => Promise.resolve(late.close()));
		await late.synced;
		expect(lateDoc.store.pendingStructs, 'a sync reply held unstored bytes').toBeNull();
		expect(scratchText(lateDoc).toJSON()).toBe('');

		// The first arrives on B, is stored there and reaches A over the bus.
		const other = await rawSocket(on(b));
		other.send(updateFrame(first));
		await waitUntil(
			() => scratchText(readerDoc).toJSON().startsWith('hello'),
			'the first update at the reader on A'
		);
		// A marker from B after it: whatever A relayed with the first has arrived too.
		const marker = new Y.Doc();
		scratchList(marker).push(['marker']);
		other.send(updateFrame(Y.encodeStateAsUpdate(marker)));
		await waitUntil(
			() => scratchList(readerDoc).toJSON().includes('marker'),
			'the marker at the reader on A'
		);

		const stored = await storedDoc(cluster, room);
		const received = Y.encodeStateAsUpdate(readerDoc);
		expect(adds(stored, received), 'the reader on A received bytes storage does not hold').toBe(
			false
		);
		// Everyone (the reader, a fresh client on either process, storage) agrees.
		for (const server of [a, b]) {
			const doc = new Y.Doc();
			const fresh = ackClient(on(server), doc);
			cleanup(() => Promise.resolve(fresh.close()));
			await fresh.synced;
			await waitUntil(() => sv(doc) === sv(readerDoc), `a fresh client on ${server.name}`);
			expect(scratchText(doc).toJSON()).toBe(scratchText(readerDoc).toJSON());
			expect(doc.store.pendingStructs).toBeNull();
		}
		expect(sv(stored)).toBe(sv(readerDoc));
	});
});
