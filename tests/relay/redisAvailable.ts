// Whether Redis answers on 127.0.0.1:6379. In CI (CI=true) a missing Redis is a
// failure; elsewhere the Redis suites say plainly how to start it and are skipped.

import { createConnection } from 'node:net';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function ping(): Promise<boolean> {
	const url = new URL(REDIS_URL);
	return new Promise((resolve) => {
		const socket = createConnection({ host: url.hostname, port: Number(url.port || 6379) });
		const done = (ok: boolean): void => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(1000, () => done(false));
		socket.on('error', () => done(false));
		socket.on('connect', () => socket.write('PING\r\n'));
		socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
	});
}

export async function redisAvailable(suite: string): Promise<boolean> {
	if (await ping()) return true;
	const how = `Redis is not reachable at ${REDIS_URL}; start it with \`redis-server --daemonize yes\` (Debian: apt-get install redis-server) or set REDIS_URL.`;
	if (process.env.CI === 'true') throw new Error(`${suite}: ${how} (required when CI=true)`);
	console.warn(`SKIPPED ${suite}: ${how}`);
	return false;
}
