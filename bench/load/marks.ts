// The worker side of marks: tell the orchestrator where we are and wait until it
// lets us go on (it samples the server in between).

import type { Job, Release, WorkerMessage } from './jobs.ts';

/** The one job this process runs. */
export function nextJob(): Promise<Job> {
	if (job) return Promise.resolve(job);
	return new Promise((resolve) => {
		onJob = resolve;
	});
}

const waiting = new Map<string, (data: unknown) => void>();
const released = new Map<string, unknown>();

// Registered as this module loads, before the rest of the worker's imports: a
// message that arrives while no listener exists is lost.
let job: Job | null = null;
let onJob: ((job: Job) => void) | null = null;

process.on('message', (message: Release | Job) => {
	if (!('type' in message)) {
		if (onJob) onJob(message);
		else job = message;
		return;
	}
	const { name, data } = message;
	const waiter = waiting.get(name);
	if (waiter) {
		waiting.delete(name);
		waiter(data);
	} else released.set(name, data);
});

// Only now can a job reach us: ask for it.
process.send?.({ type: 'hello' } satisfies WorkerMessage);

export function send(message: WorkerMessage): void {
	process.send?.(message);
}

/** Sends and resolves once the message is written (a large result must not race the exit). */
export function sendAndFlush(message: WorkerMessage): Promise<void> {
	return new Promise((resolve, reject) => {
		if (!process.send) {
			resolve();
			return;
		}
		process.send(message, undefined, {}, (err) => (err ? reject(err) : resolve()));
	});
}

export function mark<T = unknown>(name: string, data?: unknown): Promise<T> {
	send({ type: 'mark', name, data: data ?? null });
	if (released.has(name)) return Promise.resolve(released.get(name) as T);
	return new Promise<T>((resolve) => waiting.set(name, (d) => resolve(d as T)));
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for `condition` with a deadline; polls only where no event exists. */
export async function waitFor(
	condition: () => boolean,
	timeoutMs: number,
	what: string
): Promise<void> {
	const deadline = performance.now() + timeoutMs;
	while (!condition()) {
		if (performance.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(5);
	}
}

export function cpuUs(): number {
	const cpu = process.cpuUsage();
	return cpu.user + cpu.system;
}
