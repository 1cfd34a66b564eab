// Runs the workspace's own code on the server, in bubblewrap: no network, the
// system read-only, a small tmpfs scratch folder holding the run's code files
// (the exact text the run recorded), the data set read-only as a CSV file, and a
// clean environment. Limits: memory (RLIMIT_AS), processes (RLIMIT_NPROC, as the
// unprivileged `nobody` when the server is root: the limit is per real user and
// never applies to root), file size and scratch size, CPU time, wall time, and a
// CPU share (the process group is paused and resumed, at the lowest priority).
// Without a working bwrap the executor says why and never runs anything.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { MetricPoint, RunSummary } from '../protocol/training.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../runtime.ts';
import { toSummary } from './builtinExecutor.ts';
import type {
	Availability,
	ExecEvents,
	ExecHandle,
	ExecJob,
	ExecOutcome,
	Executor
} from './executor.ts';
import { DEFAULT_ENTRY } from './entry.ts';
import { parseMetricLine } from './metricLine.ts';
import type { SandboxDebugger } from '../debug/sandboxBridge.ts';

export interface SandboxLimits {
	/** Python inside the sandbox (RUNNER_PYTHON): a system one or a virtualenv's. */
	readonly python: string;
	readonly memoryMb: number;
	readonly maxProcesses: number;
	readonly scratchMb: number;
	readonly timeLimitS: number;
	/** Share of one core (0.05–1), enforced by pausing the run's processes. */
	readonly cpuShare: number;
}

const NOBODY = 65534;
const CLIENT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../clients/python');
const DUTY_PERIOD_MS = 100;

/** Why a sandbox cannot run here, or null when it can (runs a trial sandbox). */
function checkSandbox(python: string, limits: SandboxLimits): string | null {
	const bwrap = spawnSync('bwrap', ['--version'], { encoding: 'utf8' });
	if (bwrap.error || bwrap.status !== 0)
		return 'bubblewrap (bwrap) is not installed on the server, so it cannot run scripts safely; install the "bubblewrap" package.';
	const trial = spawnSync(
		'prlimit',
		[...sandboxArgs('/nonexistent-job', limits), python, '-c', 'print(1)'],
		{
			encoding: 'utf8',
			timeout: 10_000,
			env: { PATH: '/usr/bin:/bin' }
		}
	);
	if (trial.status !== 0) {
		const why = (trial.stderr || trial.error?.message || `exit ${trial.status}`)
			.trim()
			.split('\n')
			.pop();
		return `The server's sandbox does not start here (${why}); runs on the server are off.`;
	}
	return null;
}

function isRoot(): boolean {
	return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** bwrap's arguments (the command follows). `job` holds `code/` and `data/`. */
function sandboxArgs(job: string, l: SandboxLimits): string[] {
	const prefix = pythonPrefix(l.python);
	const bytes = (mb: number) => String(mb * 1024 * 1024);
	return [
		`--as=${bytes(l.memoryMb)}`,
		`--nproc=${l.maxProcesses}`,
		`--cpu=${l.timeLimitS}`,
		`--fsize=${bytes(l.scratchMb)}`,
		'--nofile=256',
		'--',
		'nice',
		'-n',
		'19',
		...(isRoot()
			? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--']
			: []),
		'bwrap',
		'--unshare-all',
		'--die-with-parent',
		'--ro-bind',
		'/usr',
		'/usr',
		'--ro-bind-try',
		'/lib',
		'/lib',
		'--ro-bind-try',
		'/lib64',
		'/lib64',
		'--ro-bind-try',
		'/bin',
		'/bin',
		'--ro-bind',
		'/etc',
		'/etc',
		...(prefix ? ['--ro-bind', prefix, prefix] : []),
		'--ro-bind-try',
		join(job, 'data'),
		'/data',
		'--ro-bind-try',
		join(job, 'code'),
		'/job',
		'--ro-bind-try',
		CLIENT_DIR,
		'/ensemble',
		'--size',
		bytes(l.scratchMb),
		'--tmpfs',
		'/scratch',
		'--size',
		bytes(16),
		'--tmpfs',
		'/tmp',
		'--proc',
		'/proc',
		'--dev',
		'/dev',
		'--chdir',
		'/scratch'
	];
}

/** A Python outside /usr (a virtualenv) is bound read-only at the same path. */
function pythonPrefix(python: string): string | null {
	const abs = resolve(python);
	if (abs.startsWith('/usr/') || abs.startsWith('/bin/')) return null;
	// …/venv/bin/python → …/venv
	return dirname(dirname(abs));
}

/** A run's code file names become paths under the scratch folder, never outside it. */
function safePath(root: string, name: string): string | null {
	const path = normalize(join(root, name));
	return path.startsWith(root + '/') ? path : null;
}

/** The server's sandbox from the configuration; says at start why it is off, if it is. */
export function sandboxExecutor(
	config: Pick<
		Config,
		| 'runnerSandbox'
		| 'runnerPython'
		| 'runnerMemoryMb'
		| 'runnerMaxProcesses'
		| 'runnerScratchMb'
		| 'runnerTimeLimitS'
		| 'trainingCpuShare'
	>,
	logger: Logger,
	debug: SandboxDebugger | null = null
): SandboxExecutor {
	const limits: SandboxLimits = {
		python: config.runnerPython,
		memoryMb: config.runnerMemoryMb,
		maxProcesses: config.runnerMaxProcesses,
		scratchMb: config.runnerScratchMb,
		timeLimitS: config.runnerTimeLimitS,
		cpuShare: config.trainingCpuShare
	};
	const why =
		config.runnerSandbox === 'off'
			? 'Runs on the server are turned off (RUNNER_SANDBOX=off); use an agent or the built-in model.'
			: checkSandbox(config.runnerPython, limits);
	const log = logger.child({ part: 'sandbox' });
	if (why) log.warn({ reason: why }, 'runs on the server are unavailable');
	else log.info({ limits }, 'runs on the server use bubblewrap');
	return new SandboxExecutor(limits, log, why, debug);
}

export class SandboxExecutor implements Executor {
	readonly kind = 'server' as const;
	readonly #limits: SandboxLimits;
	readonly #logger: Logger;
	readonly #unavailable: string | null;
	readonly #debug: SandboxDebugger | null;

	/**
	 * `unavailable`: why it cannot run (checked once at start with checkSandbox);
	 * `debug`: runs the script under the shared debugger over fd 3 (DBG11).
	 */
	constructor(
		limits: SandboxLimits,
		logger: Logger,
		unavailable: string | null,
		debug: SandboxDebugger | null = null
	) {
		this.#limits = limits;
		this.#logger = logger;
		this.#unavailable = unavailable;
		this.#debug = debug;
	}

	availability(): Availability {
		return this.#unavailable === null
			? { available: true }
			: { available: false, reason: this.#unavailable };
	}

	async start(job: ExecJob, events: ExecEvents): Promise<ExecHandle> {
		if (this.#unavailable !== null) throw new Error(this.#unavailable);
		const l = this.#limits;
		const entry = job.run.entry ?? DEFAULT_ENTRY;
		const dir = await mkdtemp(join(tmpdir(), 'ensemble-sandbox-'));
		const code = join(dir, 'code');
		const data = join(dir, 'data');
		await mkdir(code, { mode: 0o755 });
		await mkdir(data, { mode: 0o755 });
		await chmod(dir, 0o755);
		for (const [name, text] of Object.entries(job.run.code)) {
			const path = safePath(code, name);
			if (!path) continue;
			await mkdir(dirname(path), { recursive: true, mode: 0o755 });
			await writeFile(path, text, { mode: 0o644 });
		}
		const dataset = await job.dataset();
		if (dataset) await writeFile(join(data, 'dataset.csv'), dataset.csv, { mode: 0o644 });
		const hp = JSON.stringify(job.run.params);
		await writeFile(join(data, 'hyperparameters.json'), hp, { mode: 0o644 });

		const script = 'cp -R /job/. /scratch/ && exec "$0" "$@"';
		// Under the shared debugger (DBG11): the script talks to its session over fd 3.
		const pipe = this.#debug ? await this.#debug(job.workspace, job.run.id, entry) : null;
		const command = pipe
			? [l.python, '-u', '/ensemble/ensemble_client.py', 'debug-script', '3', entry]
			: [l.python, '-u', entry];
		const child = spawn('prlimit', [...sandboxArgs(dir, l), '/bin/sh', '-c', script, ...command], {
			detached: true,
			stdio: pipe ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
			env: {
				PATH: '/usr/local/bin:/usr/bin:/bin',
				HOME: '/scratch',
				LANG: 'C.UTF-8',
				PYTHONUNBUFFERED: '1',
				PYTHONDONTWRITEBYTECODE: '1',
				PYTHONPATH: '/ensemble',
				ENSEMBLE_RUN_ID: job.run.id,
				ENSEMBLE_HYPERPARAMETERS: hp,
				ENSEMBLE_HYPERPARAMETERS_FILE: '/data/hyperparameters.json',
				...(dataset ? { ENSEMBLE_DATASET: '/data/dataset.csv' } : {}),
				...(job.run.target ? { ENSEMBLE_TARGET: job.run.target } : {})
			}
		});
		const log = this.#logger.child({ workspace: job.workspace, run: job.run.id });
		const handle = watch(child, l, entry, job, events, log, () =>
			rm(dir, { recursive: true, force: true }).catch(() => undefined)
		);
		if (!pipe) return handle;
		const socket = child.stdio[3];
		if (socket instanceof Duplex) pipe.connect(socket, () => void handle.stop());
		return {
			stop: () => handle.stop(),
			done: handle.done.then(async (o) => {
				await pipe
					.exited(o.status)
					.catch((err: unknown) => log.error({ err }, 'ending the debug session failed'));
				return o;
			})
		};
	}
}

function watch(
	child: ChildProcess,
	l: SandboxLimits,
	entry: string,
	job: ExecJob,
	events: ExecEvents,
	log: Logger,
	cleanup: () => Promise<unknown>
): ExecHandle {
	const started = performance.now();
	const epochs = typeof job.run.params.epochs === 'number' ? job.run.params.epochs : null;
	const tail: string[] = [];
	let counter = 0;
	let ending: 'stopped' | 'time' | null = null;
	let exited = false;
	const signal = (sig: NodeJS.Signals): void => {
		if (exited && sig !== 'SIGKILL') return;
		try {
			if (child.pid) process.kill(-child.pid, sig);
		} catch {
			// Already gone.
		}
	};
	// The CPU share: run for share × period, pause for the rest.
	let duty: ReturnType<typeof setInterval> | null = null;
	if (l.cpuShare < 1) {
		duty = setInterval(() => {
			signal('SIGCONT');
			setTimeout(() => signal('SIGSTOP'), DUTY_PERIOD_MS * l.cpuShare).unref();
		}, DUTY_PERIOD_MS);
		duty.unref();
	}
	const kill = (): void => {
		signal('SIGKILL');
		signal('SIGCONT');
	};
	const timer = setTimeout(() => {
		ending ??= 'time';
		kill();
	}, l.timeLimitS * 1000);
	timer.unref();

	const onLine = (line: string): void => {
		const point = parseMetricLine(line, counter + 1, performance.now() - started);
		if (point) {
			counter += 1;
			const summary: RunSummary | null = point.kind === 'epoch' ? toSummary(point, epochs) : null;
			events.points([point] satisfies MetricPoint[], summary);
			return;
		}
		tail.push(line);
		if (tail.length > 50) tail.shift();
		events.log([line]);
	};
	const streams = [child.stdout, child.stderr].map((stream) => {
		if (!stream) return Promise.resolve();
		const rl = createInterface({ input: stream, crlfDelay: Infinity });
		rl.on('line', onLine);
		return new Promise<void>((done) => rl.once('close', done));
	});

	const done = new Promise<ExecOutcome>((resolveDone) => {
		child.once('error', (err) => {
			log.error({ err }, 'sandbox did not start');
			resolveDone({ status: 'failed', message: `The sandbox did not start: ${err.message}` });
		});
		child.once('exit', (code, sig) => {
			exited = true;
			clearTimeout(timer);
			if (duty) clearInterval(duty);
			kill(); // anything left in its process group
			void Promise.all(streams).then(async () => {
				await cleanup();
				resolveDone(outcome(code, sig, ending, tail, l, entry));
			});
		});
	});
	return {
		done,
		async stop() {
			ending ??= 'stopped';
			kill();
			await done;
		}
	};
}

/** How the run ended, with a message that names the limit it hit. */
function outcome(
	code: number | null,
	sig: NodeJS.Signals | null,
	ending: 'stopped' | 'time' | null,
	tail: readonly string[],
	l: SandboxLimits,
	entry: string
): ExecOutcome {
	if (ending === 'stopped') return { status: 'stopped' };
	if (ending === 'time')
		return {
			status: 'failed',
			message: `Stopped at the wall-time limit: ${l.timeLimitS} s (RUNNER_TIME_LIMIT_S).`
		};
	if (code === 0) return { status: 'completed', summary: null };
	const text = tail.slice(-20).join('\n');
	const limit =
		sig === 'SIGXCPU'
			? `It used up its CPU time limit (${l.timeLimitS} s).`
			: sig === 'SIGXFSZ' || /No space left on device|File too large/.test(text)
				? `It filled its scratch space: the limit is ${l.scratchMb} MB (RUNNER_SCRATCH_MB).`
				: /MemoryError|Cannot allocate memory|std::bad_alloc|out of memory/i.test(text)
					? `It ran out of memory: the limit is ${l.memoryMb} MB (RUNNER_MEMORY_MB).`
					: /Resource temporarily unavailable|BlockingIOError|can't start new thread/.test(text)
						? `It hit the process limit: ${l.maxProcesses} processes (RUNNER_MAX_PROCESSES).`
						: /Network is unreachable|Temporary failure in name resolution|Name or service not known|\[Errno (101|99|111)\]/.test(
									text
							  )
							? 'It tried to use the network: runs on the server have no network (use an agent for that).'
							: null;
	const how = sig ? `was killed by ${sig}` : `exited with code ${code}`;
	const last = tail[tail.length - 1];
	return {
		status: 'failed',
		message: `${entry} ${how}.${limit ? ` ${limit}` : ''}${last ? ` Last line: ${last.slice(0, 300)}` : ''}`
	};
}
