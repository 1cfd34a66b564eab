// The worker side of marks: tell the orchestrator where we are and wait until it
// lets us go on (it samples the server in between).

import type { Release, WorkerMessage } from './jobs.ts';

const waiting = new Map<string, (data: unknown) => void>();
const released = new Map<string, unknown>();

process.on('message', (message: Release | { type: string }) => {
	if (message.type !== 'release') return;
	const { name, data } = message as Release;
	const waiter = waiting.get(name);
	if (waiter) {
		waiting.delete(name);
		waiter(data);
	} else released.set(name, data);
});

export function send(message: WorkerMessage): void {
	process.send?.(message);
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
