// Child processes seen from the orchestrator: the server under test (servers/
// host.ts) and load generators (load/worker.ts), both talking over IPC.

import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { HostReply, ServerKind, ServerSample } from '../servers/types.ts';
import type { Job, WorkerMessage } from '../load/jobs.ts';

const HOST = join(import.meta.dirname, '../servers/host.ts');
const WORKER = join(import.meta.dirname, '../load/worker.ts');

const ROOT = join(import.meta.dirname, '../..');

/**
 * How `npm start` runs the server (package.json): its Node flags, given to
 * Ensemble so that it runs here as operators run it (the peers run with Node's
 * defaults, as theirs do), and its compile cache directory.
 */
function startCommand(): { flags: string[]; compileCache: string | null } {
	const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
		scripts: { start: string };
	};
	const start = pkg.scripts.start;
	const flags = /\bnode((?: --[\w-]+(?:=\S+)?)*) server\/main\.ts/.exec(start)?.[1];
	const cache = /\bNODE_COMPILE_CACHE=(\S+)/.exec(start)?.[1];
	return {
		flags: flags?.trim().split(' ').filter(Boolean) ?? [],
		compileCache: cache ? resolve(ROOT, cache) : null
	};
}

/**
 * Every server's host gets npm start's compile cache: the host and the peers'
 * adapters are TypeScript, and without the cache each of them would load Node's
 * TypeScript stripper (~17 MB) that none of the servers loads when run by its
 * operators. The orchestrator starts each server once before measuring
 * (`warmCompileCache`), so every measured start reads the cache.
 */
const START = startCommand();

/** Starts and closes each server once, so that the measured starts read a warm compile cache. */
export async function warmCompileCache(kinds: readonly ServerKind[]): Promise<void> {
	if (!START.compileCache) return;
	for (const kind of kinds) {
		const server = await startServer(kind);
		await server.close();
	}
}

export interface ServerOptions {
	/** Reuse a data directory (cold load restarts); otherwise a fresh temp one. */
	readonly dataDir?: string;
	readonly store?: boolean;
	readonly env?: Readonly<Record<string, string>>;
	/** Write a V8 CPU profile of the server into this directory. */
	readonly cpuProfDir?: string;
}

export interface ServerHandle {
	readonly kind: ServerKind;
	readonly port: number;
	readonly pid: number;
	readonly dataDir: string;
	sample(gc?: boolean): Promise<ServerSample>;
	/** With --profile: start profiling the server's main thread; `stop(label)` writes the file. */
	profileStart(): Promise<void>;
	profileStop(label: string): Promise<void>;
	close(): Promise<void>;
}

export function makeDataDir(): string {
	return mkdtempSync(join(tmpdir(), 'ensemble-bench-'));
}

export async function startServer(
	kind: ServerKind,
	options: ServerOptions = {}
): Promise<ServerHandle> {
	const dataDir = options.dataDir ?? makeDataDir();
	const ownDir = options.dataDir === undefined;
	const execArgv = [
		'--expose-gc',
		'--max-old-space-size=4096',
		...(kind === 'ensemble' ? START.flags : [])
	];
	const profDir = options.cpuProfDir;
	let profiles = 0;
	const child = fork(HOST, [kind, dataDir, options.store ? '1' : '0'], {
		execArgv,
		env: {
			...process.env,
			LOG_LEVEL: 'warn',
			DATA_DIR: dataDir,
			NODE_ENV: 'production',
			...(START.compileCache ? { NODE_COMPILE_CACHE: START.compileCache } : {}),
			...options.env
		},
		stdio: ['ignore', 'inherit', 'inherit', 'ipc']
	});
	const port = await new Promise<number>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${kind} did not start in 60 s`)), 60_000);
		child.on('message', (message: HostReply) => {
			if (message.type === 'ready') {
				clearTimeout(timer);
				resolve(message.port);
			}
		});
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`${kind} exited with ${code} before it was ready`));
		});
	});
	let nextId = 1;
	const request = <T extends HostReply['type']>(
		type: T,
		body: Record<string, unknown>,
		timeoutMs: number
	): Promise<Extract<HostReply, { type: T }>> => {
		const id = nextId++;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				child.off('message', onMessage);
				reject(new Error(`${kind}: no ${type} reply in ${timeoutMs} ms`));
			}, timeoutMs);
			const onMessage = (message: HostReply): void => {
				if (message.type === 'error') {
					clearTimeout(timer);
					child.off('message', onMessage);
					reject(new Error(`${kind}: ${message.message}`));
				} else if (message.type === type && 'id' in message && message.id === id) {
					clearTimeout(timer);
					child.off('message', onMessage);
					resolve(message as Extract<HostReply, { type: T }>);
				}
			};
			child.on('message', onMessage);
			child.send({ ...body, type: type === 'closed' ? 'close' : type, id });
		});
	};
	return {
		kind,
		port,
		pid: child.pid ?? -1,
		dataDir,
		sample: async (gc = false) => (await request('sample', { gc }, 30_000)).sample,
		profileStart: async () => {
			if (profDir) await request('profile', { file: null }, 30_000);
		},
		profileStop: async (label) => {
			if (!profDir) return;
			const file = join(
				profDir,
				`${kind}-${label.replace(/[^\w.-]+/g, '_')}-${++profiles}.cpuprofile`
			);
			await request('profile', { file }, 60_000);
		},
		close: async () => {
			try {
				if (child.exitCode === null) {
					const exited = new Promise((resolve) => child.once('exit', resolve));
					await request('closed', {}, 30_000).catch((err: unknown) => {
						process.stderr.write(`bench: ${kind} close: ${String(err)}; killing it\n`);
						child.kill('SIGKILL');
					});
					await exited;
				}
			} finally {
				if (ownDir) rmSync(dataDir, { recursive: true, force: true });
			}
		}
	};
}

/** A load generator process running one job. */
export class LoadProc<R> {
	readonly result: Promise<R>;
	private readonly child: ChildProcess;
	private readonly marks = new Map<string, (data: unknown) => void>();
	private readonly seen = new Map<string, unknown>();

	constructor(job: Job, timeoutMs: number) {
		this.child = fork(WORKER, [], {
			execArgv: ['--max-old-space-size=4096'],
			stdio: ['ignore', 'inherit', 'inherit', 'ipc']
		});
		this.result = new Promise<R>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.child.kill('SIGKILL');
				reject(new Error(`load job ${job.kind} timed out after ${timeoutMs} ms`));
			}, timeoutMs);
			this.child.on('message', (message: WorkerMessage) => {
				if (message.type === 'hello') {
					// The worker listens only once its modules have loaded: a job sent earlier is lost.
					this.child.send(job);
				} else if (message.type === 'result') {
					clearTimeout(timer);
					resolve(message.result as R);
				} else if (message.type === 'error') {
					clearTimeout(timer);
					reject(new Error(`load job ${job.kind}: ${message.message}`));
				} else if (message.type === 'mark') {
					const waiter = this.marks.get(message.name);
					if (waiter) waiter(message.data);
					else this.seen.set(message.name, message.data);
				}
			});
			// 'close', not 'exit': messages still in the channel are delivered before it.
			this.child.once('close', (code) => {
				clearTimeout(timer);
				reject(new Error(`load job ${job.kind} exited with ${code} without a result`));
			});
		});
		this.result.catch(() => undefined); // awaited by the scenario; avoids an unhandled rejection meanwhile
	}

	/** Waits for the worker to reach `name` (it then waits for `release`). */
	mark<T = unknown>(name: string): Promise<T> {
		if (this.seen.has(name)) return Promise.resolve(this.seen.get(name) as T);
		return new Promise<T>((resolve, reject) => {
			this.marks.set(name, (data) => resolve(data as T));
			this.result.then(
				() => reject(new Error(`worker finished before mark ${name}`)),
				(err: unknown) => reject(err instanceof Error ? err : new Error(String(err)))
			);
		});
	}

	release(name: string, data?: unknown): void {
		this.child.send({ type: 'release', name, data });
	}

	kill(): void {
		if (this.child.exitCode === null) this.child.kill('SIGKILL');
	}
}
