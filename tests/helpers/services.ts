// PostgreSQL and Redis for the multi-process tests: whether they answer, and a
// fresh database per test. With CI=true a missing service is a failure; elsewhere
// the suite says plainly how to start it and does not run.

import { createConnection } from 'node:net';
import pg from 'pg';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string, defaultPort: number): Promise<boolean> {
	const parsed = new URL(url);
	return new Promise((resolve) => {
		const socket = createConnection({
			host: parsed.hostname,
			port: Number(parsed.port || defaultPort)
		});
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(1000, () => done(false));
		socket.on('error', () => done(false));
		socket.on('connect', () => done(true));
	});
}

/** True when both answer; otherwise explains (and throws under CI=true). */
export async function servicesAvailable(suite: string): Promise<boolean> {
	const missing: string[] = [];
	if (!(await reachable(PG_URL, 5432))) {
		missing.push(
			`PostgreSQL at ${PG_URL} (start it: service postgresql start; or set TEST_DATABASE_URL)`
		);
	}
	if (!(await reachable(REDIS_URL, 6379))) {
		missing.push(
			`Redis at ${REDIS_URL} (start it: redis-server --daemonize yes; or set TEST_REDIS_URL)`
		);
	}
	if (missing.length === 0) return true;
	const message = `${suite} needs ${missing.join(' and ')}`;
	if (process.env.CI === 'true') throw new Error(`${message} (required when CI=true)`);
	console.warn(`NOT RUN: ${message}`);
	return false;
}

/** A new, empty database; returns its URL and a function that drops it. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
	const name = `ens_it_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
	const admin = new pg.Client({ connectionString: PG_URL });
	await admin.connect();
	try {
		await admin.query(`CREATE DATABASE ${name}`);
	} finally {
		await admin.end();
	}
	const url = new URL(PG_URL);
	url.pathname = `/${name}`;
	return {
		url: url.toString(),
		async drop() {
			const c = new pg.Client({ connectionString: PG_URL });
			await c.connect();
			try {
				await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
			} finally {
				await c.end();
			}
		}
	};
}
