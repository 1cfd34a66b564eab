// The bus contract against MemoryBus and RedisBus (SPEC.md BUS1).

import { randomUUID } from 'node:crypto';
import { describe } from 'vitest';
import { MemoryHub } from '../../server/relay/bus.ts';
import { RedisBus } from '../../server/relay/redisBus.ts';
import { silentLogger } from '../../server/runtime.ts';
import { runBusContract } from './bus-contract.ts';
import { REDIS_URL, redisAvailable } from './redisAvailable.ts';

runBusContract('MemoryBus', () => {
	const hub = new MemoryHub();
	const a = hub.connect();
	const b = hub.connect();
	return Promise.resolve({
		a,
		b,
		channel: (name: string) => name,
		close: async () => {
			await a.close();
			await b.close();
		}
	});
});

const redisUp = await redisAvailable('RedisBus contract');
describe.skipIf(!redisUp)('redis', () => {
	runBusContract('RedisBus', () => {
		const prefix = `ensemble-test-${randomUUID()}:`;
		const a = new RedisBus({ url: REDIS_URL, logger: silentLogger, prefix });
		const b = new RedisBus({ url: REDIS_URL, logger: silentLogger, prefix });
		return Promise.resolve({
			a,
			b,
			channel: (name: string) => name,
			close: async () => {
				await a.close();
				await b.close();
			}
		});
	});
});
