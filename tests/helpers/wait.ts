// Waiting for things in tests: for an event when one exists, else polling a
// condition with a deadline. Never a bare sleep.

import type { EventEmitter } from 'node:events';

export const DEFAULT_DEADLINE_MS = 5000;

/** Rejects with `what` in the message when `promise` has not settled in `ms`. */
export function withDeadline<T>(
	promise: Promise<T>,
	what: string,
	ms = DEFAULT_DEADLINE_MS
): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
	});
	return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Polls `condition` (for state that has no event) until it is true. */
export async function waitUntil(
	condition: () => boolean | Promise<boolean>,
	what: string,
	ms = DEFAULT_DEADLINE_MS
): Promise<void> {
	const until = Date.now() + ms;
	while (!(await condition())) {
		if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

/** The arguments of the next `event` on a Node emitter. */
export function nextEvent<T extends unknown[]>(
	emitter: EventEmitter,
	event: string,
	ms = DEFAULT_DEADLINE_MS
): Promise<T> {
	return withDeadline(
		new Promise<T>((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T))),
		`event "${event}"`,
		ms
	);
}
