// The relay's counters (RelayStats in api.ts), mutable inside the relay.

import type { RelayStats } from './api.ts';

export type MutableStats = { -readonly [K in keyof RelayStats]: RelayStats[K] } & {
	/** Total ms spent waiting for store writes (for a mean store latency). */
	storeMs: number;
};

export function newStats(): MutableStats {
	return {
		connections: 0,
		documentsLoaded: 0,
		updatesReceived: 0,
		updatesStored: 0,
		storeFailures: 0,
		messagesSent: 0,
		busMessagesIn: 0,
		busMessagesOut: 0,
		resyncs: 0,
		updatesHeldBack: 0,
		documentsBuilt: 0,
		storeMs: 0
	};
}
