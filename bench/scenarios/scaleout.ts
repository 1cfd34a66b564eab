// Issue 8: two Ensemble processes sharing PostgreSQL and Redis. Delivery p99 from
// a writer on one process to readers on the other, against writer and readers
// on the same process (same two-process deployment). Each run uses its own
// throwaway database on 127.0.0.1:5432 so other people's tests are not touched.

import { userInfo } from 'node:os';
import pg from 'pg';
import type { ClientsJob } from '../load/jobs.ts';
import { startServer, type ServerHandle } from '../lib/proc.ts';
import { prepareRooms, refreshTokens } from '../lib/rooms.ts';
import type { RoomRef } from '../lib/clients.ts';
import { phase } from './phase.ts';
import type { BenchConfig, Metrics, Scenario } from './types.ts';

// pg takes the user from $USER, which is unset here: name it (trust auth on loopback).
const PG_USER = process.env.PGUSER ?? userInfo().username;
const PG = `postgres://${PG_USER}@127.0.0.1:5432`;
const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? `${PG}/test`;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const READERS = 10;

async function admin(sql: string): Promise<void> {
	const client = new pg.Client({ connectionString: ADMIN_URL });
	await client.connect();
	try {
		await client.query(sql);
	} finally {
		await client.end();
	}
}

function jobs(reader: RoomRef, writer: RoomRef, durationMs: number): ClientsJob[] {
	const base = {
		kind: 'clients',
		rate: 20,
		cursor: true,
		presence: true,
		renewAtMs: null,
		durationMs,
		connectBatch: 10,
		ack: true
	} as const;
	return [
		{ ...base, rooms: [reader], clientsPerRoom: READERS, writersPerRoom: 0 },
		{ ...base, rooms: [writer], clientsPerRoom: 1, writersPerRoom: 1 }
	];
}

export const scaleoutScenario: Scenario = {
	id: 'scaleout',
	title: 'Scale-out: two Ensemble processes on PostgreSQL + Redis (issue 8)',
	servers: ['ensemble'],
	async run(_kind, config: BenchConfig): Promise<Metrics> {
		const durationMs = config.quick ? 3_000 : 8_000;
		const db = `ensemble_bench_${process.pid}_${Date.now()}`;
		await admin(`CREATE DATABASE ${db}`);
		const servers: ServerHandle[] = [];
		try {
			const env = {
				DATABASE_URL: `${PG}/${db}`,
				REDIS_URL,
				SECRET: `bench-secret-${db}`
			};
			const a = await startServer('ensemble', { env });
			servers.push(a);
			const b = await startServer('ensemble', { env });
			servers.push(b);
			const [onA, onA2] = await prepareRooms(a, 2);
			if (!onA || !onA2) throw new Error('no rooms');
			const [onB] = await refreshTokens(a, b, [onA2]);
			if (!onB) throw new Error('no room on B');
			const same = await phase(a, jobs(onA, onA, durationMs), READERS, 'same-process');
			const cross = await phase(a, jobs(onB, onA2, durationMs), READERS, 'cross-process');
			return {
				'same-process delivery p50 ms': same.latency.p50,
				'same-process delivery p99 ms': same.latency.p99,
				'cross-process delivery p50 ms': cross.latency.p50,
				'cross-process delivery p99 ms': cross.latency.p99,
				'cross-process minus same-process p99 ms': cross.latency.p99 - same.latency.p99,
				'cross-process undelivered %': (100 * cross.undelivered) / Math.max(1, cross.expected)
			};
		} finally {
			for (const server of servers) await server.close();
			await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
		}
	}
};
