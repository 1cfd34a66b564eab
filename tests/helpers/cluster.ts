// Server processes (node server/main.ts) on one fresh PostgreSQL database and
// Redis, each reaching both through its own fault proxy, so a test can cut,
// pause or slow one process's link to either service (tests/faults/).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultProxy } from './faultProxy.ts';
import { spawnServer, stopChild, type ChildServer } from './process.ts';
import { freshDatabase, REDIS_URL } from './services.ts';

export interface Member extends ChildServer {
	/** This process's link to Redis and to PostgreSQL. */
	readonly redis: FaultProxy;
	readonly postgres: FaultProxy;
	readonly name: string;
}

export class Cluster {
	readonly members: Member[] = [];
	readonly databaseUrl: string;
	readonly #cleanups: (() => Promise<unknown>)[] = [];
	#count = 0;

	private constructor(databaseUrl: string, drop: () => Promise<void>) {
		this.databaseUrl = databaseUrl;
		this.#cleanups.push(drop);
	}

	/** `n` processes started together (migrations are safe when they start at once). */
	static async start(n: number, env: Record<string, string> = {}): Promise<Cluster> {
		const db = await freshDatabase();
		const cluster = new Cluster(db.url, () => db.drop());
		try {
			await Promise.all(Array.from({ length: n }, () => cluster.add(env)));
		} catch (err) {
			await cluster.close();
			throw err;
		}
		return cluster;
	}

	/** One more process (a restart of a killed one is a new process on the same database). */
	async add(env: Record<string, string> = {}): Promise<Member> {
		const name = `p${++this.#count}`;
		const redis = await FaultProxy.start(REDIS_URL, 6379);
		const postgres = await FaultProxy.start(this.databaseUrl, 5432);
		this.#cleanups.push(
			() => redis.close(),
			() => postgres.close()
		);
		// DATA_DIR is unused with DATABASE_URL but must not be shared with other tests.
		const dir = await mkdtemp(join(tmpdir(), 'ensemble-faults-'));
		this.#cleanups.push(() => rm(dir, { recursive: true, force: true }));
		const child = await spawnServer(dir, {
			DATABASE_URL: postgres.url(this.databaseUrl),
			REDIS_URL: redis.url(REDIS_URL),
			INSTANCE_ID: name,
			...env
		});
		const member: Member = Object.assign(child, { redis, postgres, name });
		this.#cleanups.push(() => stopChild(child));
		this.members.push(member);
		return member;
	}

	member(i: number): Member {
		const m = this.members[i];
		if (!m) throw new Error(`no process ${i}`);
		return m;
	}

	/** Processes still running. */
	live(): Member[] {
		return this.members.filter((m) => m.child.exitCode === null && m.child.signalCode === null);
	}

	async close(): Promise<void> {
		for (const m of this.members) {
			// A stopped process cannot die of SIGKILL until it is continued.
			if (m.child.exitCode === null) m.child.kill('SIGCONT');
		}
		for (const c of this.#cleanups.splice(0).reverse()) await c().catch(() => undefined);
	}
}
