// The seeded convergence fuzz of the fault suite (issue 11), shared by
// tests/faults/fuzz.test.ts (50 seeds in `npm test`) and scripts/soak.ts
// (`npm run soak -- --seeds=1000`). Two server processes on PostgreSQL and
// Redis, each behind its own fault proxies; several writers edit one document
// through them while faults come and go. At each fault, everything a writer had
// been told was saved, and everything any writer had received, must already be
// in storage (read directly, not through a process); after each fault heals,
// every writer, every process and storage converge on the same state vector
// and content (FAULT1, FAULT2).

import * as Y from 'yjs';
import { PostgresStorage } from '../../server/storage/postgres.ts';
import type { RoomName } from '../../server/protocol/docs.ts';
import { Cluster, type Member } from '../helpers/cluster.ts';
import { ackClient } from '../helpers/ackClient.ts';
import { ApiClient } from '../helpers/http.ts';
import { mulberry32 } from '../helpers/random.ts';
import { waitUntil } from '../helpers/wait.ts';
import { Writer } from './writer.ts';
import { scratchList, scratchText } from '../helpers/schemaRoots.ts';

export const FAULT_KINDS = [
	'redis-cut',
	'redis-pause',
	'redis-slow',
	'pg-cut',
	'pg-pause',
	'pg-slow',
	'sigstop',
	'sigkill'
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SeedOptions {
	/** The kinds to draw from. */
	readonly kinds: readonly FaultKind[];
	readonly faults: number;
	readonly writers: number;
}

export interface SeedResult {
	readonly seed: number;
	readonly faults: FaultKind[];
	/** Acknowledged updates (clock units) missing from storage at a fault. */
	readonly ackedLost: number;
	/** Received updates (clock units) missing from storage at a fault. */
	readonly receivedLost: number;
	/** Per fault: from healing to every writer converged and acknowledged. */
	readonly recoverMs: number[];
	readonly error: string | null;
}

/** How long everyone may take to converge after a fault heals. */
const RECOVER_DEADLINE_MS = 30_000;
const EDIT_EVERY_MS = 15;

type SV = Map<number, number>;

function svOf(doc: Y.Doc): SV {
	return Y.decodeStateVector(Y.encodeStateVector(doc));
}

function sameSv(a: SV, b: SV): boolean {
	if (a.size !== b.size) return false;
	for (const [k, v] of a) if (b.get(k) !== v) return false;
	return true;
}

function content(doc: Y.Doc): string {
	return JSON.stringify([scratchList(doc).toJSON(), scratchText(doc).toJSON()]);
}

export class FaultBench {
	readonly cluster: Cluster;
	readonly #storage: PostgresStorage;
	readonly #cookie: string;
	readonly #stopped = new Set<Member>();
	/** Killed on purpose; any other process that exits has crashed. */
	readonly #killed = new Set<Member>();

	private constructor(cluster: Cluster, storage: PostgresStorage, cookie: string) {
		this.cluster = cluster;
		this.#storage = storage;
		this.#cookie = cookie;
	}

	static async start(): Promise<FaultBench> {
		const cluster = await Cluster.start(2);
		try {
			const owner = new ApiClient(cluster.member(0).url);
			await owner.signup('Olivia', 'olivia@example.com');
			const storage = await PostgresStorage.open({ connectionString: cluster.databaseUrl });
			return new FaultBench(cluster, storage, owner.cookie ?? '');
		} catch (err) {
			await cluster.close();
			throw err;
		}
	}

	async close(): Promise<void> {
		await this.#storage.close();
		await this.cluster.close();
	}

	/** Processes that run and are not stopped. */
	#serving(): Member[] {
		return this.cluster.live().filter((m) => !this.#stopped.has(m));
	}

	#owner(): ApiClient {
		const first = this.#serving()[0];
		if (!first) throw new Error('no process is serving');
		const owner = new ApiClient(first.url);
		owner.cookie = this.#cookie;
		return owner;
	}

	/** What storage holds for `room`, folded into a document. */
	async stored(room: RoomName): Promise<Y.Doc> {
		const loaded = await this.#storage.loadDoc(room);
		const doc = new Y.Doc();
		doc.transact(() => {
			if (loaded.snapshot) Y.applyUpdate(doc, loaded.snapshot);
			for (const u of loaded.updates) Y.applyUpdate(doc, u.update);
		});
		return doc;
	}

	async runSeed(seed: number, options: SeedOptions): Promise<SeedResult> {
		const random = mulberry32(seed);
		const pick = <T>(items: readonly T[]): T => {
			const item = items[Math.floor(random() * items.length)];
			if (item === undefined) throw new Error('nothing to pick from');
			return item;
		};
		const owner = this.#owner();
		const workspace = (await owner.createWorkspace(`seed ${seed}`)).id;
		const token = await owner.wsToken(workspace);
		const room = `${workspace}/params` as RoomName;
		const urlOn = (m: Member) => `${m.wsUrl}/ws/${room}?ack=1&token=${token}`;
		// Routing is not seeded (reconnects happen at racy moments); edits and faults are.
		const route = () => {
			const serving = this.#serving();
			return urlOn(serving[Math.floor(Math.random() * serving.length)] ?? this.cluster.member(0));
		};
		const writers = Array.from({ length: options.writers }, (_, i) => {
			const first = this.#serving()[i % this.#serving().length];
			let routed = false;
			return new Writer(`w${i}`, () => {
				if (routed || !first) return route();
				routed = true;
				return urlOn(first);
			});
		});
		const result = {
			seed,
			faults: [] as FaultKind[],
			ackedLost: 0,
			receivedLost: 0,
			recoverMs: [] as number[],
			error: null as string | null
		};
		let editing: ReturnType<typeof setInterval> | null = null;
		const startEditing = () => {
			editing = setInterval(() => pick(writers).edit(random), EDIT_EVERY_MS);
		};
		const stopEditing = () => {
			if (editing) clearInterval(editing);
			editing = null;
		};
		try {
			await waitUntil(() => writers.every((w) => w.ready), 'every writer connected', 20_000);
			for (let f = 0; f < options.faults; f++) {
				startEditing();
				await hold(100 + random() * 200);
				const kind = pick(options.kinds);
				const target = pick(this.#serving());
				result.faults.push(kind);
				// What was acknowledged and received before the fault must already be stored.
				const before = writers.map((w) => ({ w, acked: w.acked, sv: svOf(w.doc) }));
				const heal = await this.#inject(kind, target);
				const stored = svOf(await this.stored(room));
				for (const { w, acked, sv } of before) {
					result.ackedLost += Math.max(0, acked - (stored.get(w.doc.clientID) ?? 0));
					for (const [client, clock] of sv) {
						if (client === w.doc.clientID) continue;
						result.receivedLost += Math.max(0, clock - (stored.get(client) ?? 0));
					}
				}
				await hold(150 + random() * 500);
				stopEditing();
				await heal();
				const healed = Date.now();
				await this.#converged(writers, room);
				result.recoverMs.push(Date.now() - healed);
			}
		} catch (err) {
			result.error = err instanceof Error ? err.message : String(err);
		} finally {
			stopEditing();
			for (const w of writers) w.stop();
			for (const w of writers) w.doc.destroy();
		}
		return result;
	}

	/** Starts the fault; returns what heals it. */
	async #inject(kind: FaultKind, target: Member): Promise<() => Promise<void>> {
		switch (kind) {
			case 'redis-cut':
			case 'redis-pause':
			case 'redis-slow':
				target.redis.fault(faultOf(kind));
				return () => Promise.resolve(target.redis.heal());
			case 'pg-cut':
			case 'pg-pause':
			case 'pg-slow':
				target.postgres.fault(faultOf(kind));
				return () => Promise.resolve(target.postgres.heal());
			case 'sigstop':
				this.#stopped.add(target);
				target.child.kill('SIGSTOP');
				return () => {
					target.child.kill('SIGCONT');
					this.#stopped.delete(target);
					return Promise.resolve();
				};
			case 'sigkill':
				this.#killed.add(target);
				target.child.kill('SIGKILL');
				await target.exited;
				// Healed when a new process has taken its place.
				return async () => {
					await this.cluster.add();
				};
		}
	}

	/**
	 * Every writer connected, everything it wrote acknowledged, all on one state
	 * vector; storage and a fresh client on every process the same.
	 */
	async #converged(writers: readonly Writer[], room: RoomName): Promise<void> {
		const crashed = () => {
			const dead = this.cluster.members.find(
				(m) => !this.#killed.has(m) && (m.child.exitCode !== null || m.child.signalCode !== null)
			);
			if (dead)
				throw new Error(
					`process ${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode})`
				);
		};
		await waitUntil(
			() => {
				crashed();
				const first = writers[0];
				if (!first || !writers.every((w) => w.ready && w.acked >= w.clock)) return false;
				const sv = svOf(first.doc);
				return writers.every((w) => sameSv(svOf(w.doc), sv));
			},
			'every writer connected, acknowledged and on one state vector',
			RECOVER_DEADLINE_MS
		);
		const reference = writers[0]?.doc;
		if (!reference) return;
		const expected = { sv: svOf(reference), content: content(reference) };
		const stored = await this.stored(room);
		try {
			if (!sameSv(svOf(stored), expected.sv) || content(stored) !== expected.content) {
				throw new Error('storage differs from the writers');
			}
		} finally {
			stored.destroy();
		}
		for (const member of this.#serving()) {
			const doc = new Y.Doc();
			const reader = ackClient(`${member.wsUrl}/ws/${room}?token=${await this.#token(room)}`, doc);
			try {
				await reader.synced;
				await waitUntil(
					() => sameSv(svOf(doc), expected.sv) && content(doc) === expected.content,
					`a fresh client on ${member.name} to match the writers`,
					RECOVER_DEADLINE_MS
				);
			} finally {
				reader.close();
				doc.destroy();
			}
		}
	}

	async #token(room: RoomName): Promise<string> {
		const workspace = room.split('/')[0] ?? '';
		return this.#owner().wsToken(workspace);
	}
}

function faultOf(kind: FaultKind): 'cut' | 'pause' | 'slow' {
	if (kind.endsWith('cut')) return 'cut';
	return kind.endsWith('pause') ? 'pause' : 'slow';
}

/**
 * Lets edits and a fault run for `ms`: the scenario's own pacing (how long a
 * fault lasts), not a wait for something to happen.
 */
function hold(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One line per seed, as the fuzz test and the soak print it. */
export function describeSeed(r: SeedResult): string {
	const recover = r.recoverMs.length > 0 ? `recovered in ${r.recoverMs.join('/')} ms` : '';
	const status = r.error ? `FAILED: ${r.error}` : 'converged';
	return `seed ${r.seed}: ${status}; faults ${r.faults.join(', ') || 'none'}; ${recover}; acknowledged lost ${r.ackedLost}, received lost ${r.receivedLost}`;
}

export interface Summary {
	readonly seeds: number;
	readonly converged: number;
	readonly faultsByKind: Record<string, number>;
	readonly ackedLost: number;
	readonly receivedLost: number;
	readonly recoverP50: number;
	readonly recoverP95: number;
	readonly recoverMax: number;
	readonly failedSeeds: number[];
}

export function summarize(results: readonly SeedResult[]): Summary {
	const faultsByKind: Record<string, number> = {};
	for (const r of results) for (const k of r.faults) faultsByKind[k] = (faultsByKind[k] ?? 0) + 1;
	const recover = results.flatMap((r) => r.recoverMs).sort((a, b) => a - b);
	const at = (q: number) =>
		recover[Math.min(recover.length - 1, Math.floor(q * recover.length))] ?? 0;
	return {
		seeds: results.length,
		converged: results.filter((r) => r.error === null).length,
		faultsByKind,
		ackedLost: results.reduce((n, r) => n + r.ackedLost, 0),
		receivedLost: results.reduce((n, r) => n + r.receivedLost, 0),
		recoverP50: at(0.5),
		recoverP95: at(0.95),
		recoverMax: recover[recover.length - 1] ?? 0,
		failedSeeds: results.filter((r) => r.error !== null).map((r) => r.seed)
	};
}

export function describeSummary(s: Summary): string {
	const kinds = Object.entries(s.faultsByKind)
		.map(([k, n]) => `${k} ${n}`)
		.join(', ');
	return [
		`seeds converged: ${s.converged} of ${s.seeds}`,
		`faults by kind: ${kinds}`,
		`acknowledged updates lost: ${s.ackedLost}`,
		`received updates lost: ${s.receivedLost}`,
		`time to recover after a fault heals: p50 ${s.recoverP50} ms, p95 ${s.recoverP95} ms, max ${s.recoverMax} ms`,
		s.failedSeeds.length > 0 ? `failed seeds: ${s.failedSeeds.join(', ')}` : 'failed seeds: none'
	].join('\n');
}
