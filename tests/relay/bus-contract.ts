// The contract every Bus implementation passes (STYLE.md 2): run by
// bus.test.ts against MemoryBus and RedisBus.

import { describe, expect, it } from 'vitest';
import type { Bus } from '../../server/relay/bus.ts';

export interface BusPair {
	/** Two endpoints of one bus, as two processes would have. */
	readonly a: Bus;
	readonly b: Bus;
	/** A channel name no other test uses. */
	channel(name: string): string;
	close(): Promise<void>;
}

function collector(): {
	messages: Uint8Array[];
	handler: (m: Uint8Array) => void;
	next(count: number): Promise<void>;
} {
	const messages: Uint8Array[] = [];
	const waiters: Array<() => void> = [];
	return {
		messages,
		handler: (m) => {
			messages.push(m.slice());
			for (const w of waiters.splice(0)) w();
		},
		async next(count) {
			const deadline = Date.now() + 3000;
			while (messages.length < count) {
				if (Date.now() > deadline)
					throw new Error(`expected ${count} messages, got ${messages.length}`);
				await new Promise<void>((resolve) => {
					const t = setTimeout(resolve, 50);
					waiters.push(() => {
						clearTimeout(t);
						resolve();
					});
				});
			}
		}
	};
}

export function runBusContract(name: string, setup: () => Promise<BusPair>): void {
	describe(`bus contract: ${name}`, () => {
		it('[BUS1] a message published on one endpoint reaches subscribers on every endpoint, bytes intact', async () => {
			const pair = await setup();
			try {
				const ch = pair.channel('deliver');
				const onA = collector();
				const onB = collector();
				await pair.a.subscribe(ch, onA.handler);
				await pair.b.subscribe(ch, onB.handler);
				const payload = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);
				await pair.a.publish(ch, payload);
				await Promise.all([onA.next(1), onB.next(1)]);
				expect([...onB.messages[0]!]).toEqual([...payload]);
				expect([...onA.messages[0]!]).toEqual([...payload]);
			} finally {
				await pair.close();
			}
		});

		it('[BUS1] messages from one publisher on one channel arrive in order; channels are separate', async () => {
			const pair = await setup();
			try {
				const ch = pair.channel('order');
				const other = pair.channel('other');
				const got = collector();
				const otherGot = collector();
				await pair.b.subscribe(ch, got.handler);
				await pair.b.subscribe(other, otherGot.handler);
				for (let i = 0; i < 50; i++) void pair.a.publish(ch, new Uint8Array([i]));
				await got.next(50);
				expect(got.messages.map((m) => m[0])).toEqual(Array.from({ length: 50 }, (_, i) => i));
				expect(otherGot.messages).toEqual([]);
			} finally {
				await pair.close();
			}
		});

		it('[BUS1] unsubscribing stops delivery to that handler only', async () => {
			const pair = await setup();
			try {
				const ch = pair.channel('unsub');
				const first = collector();
				const second = collector();
				const off = await pair.b.subscribe(ch, first.handler);
				await pair.b.subscribe(ch, second.handler);
				await pair.a.publish(ch, new Uint8Array([1]));
				await Promise.all([first.next(1), second.next(1)]);
				off();
				await pair.a.publish(ch, new Uint8Array([2]));
				await second.next(2);
				expect(first.messages.length).toBe(1);
			} finally {
				await pair.close();
			}
		});
	});
}
