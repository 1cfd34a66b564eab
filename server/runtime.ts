// The clock and the logger are injected everywhere (STYLE.md 11), so tests can
// control time and capture logs, and nothing deep inside calls Date.now() or console.

export interface Clock {
	/** Milliseconds since the epoch. */
	now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The subset of pino's interface the server uses; pino loggers satisfy it. */
export interface Logger {
	debug(obj: object, msg?: string): void;
	info(obj: object, msg?: string): void;
	warn(obj: object, msg?: string): void;
	error(obj: object, msg?: string): void;
	child(bindings: Record<string, unknown>): Logger;
}

export const silentLogger: Logger = {
	debug() {},
	info() {},
	warn() {},
	error() {},
	child() {
		return silentLogger;
	}
};
