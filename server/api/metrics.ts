// Prometheus metrics for /metrics. One registry per server instance (tests start
// several in one process). Relay counters are read at scrape time.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../runtime.ts';
import type { RelayApi, RelayStats } from '../relay/api.ts';
import type { Storage } from '../storage/types.ts';

export interface Metrics {
	readonly registry: Registry;
	/** Seconds a store call took, by operation. */
	readonly storeLatency: Histogram<'op'>;
	/** Seconds a bus publish took (a Redis round trip with RedisBus). */
	readonly busLatency: Histogram<'op'>;
	readonly upgrades: Counter<'outcome'>;
	/** Set once the relay exists (it is built after storage, which reports into storeLatency). */
	attachRelay(relay: RelayApi): void;
}

const COUNTERS: ReadonlyArray<[keyof RelayStats, string, string]> = [
	[
		'updatesReceived',
		'ensemble_updates_received_total',
		'Document updates received from clients and server writes'
	],
	['updatesStored', 'ensemble_updates_stored_total', 'Document updates durably stored'],
	[
		'storeFailures',
		'ensemble_store_failures_total',
		'Failed durable writes (nothing acknowledged)'
	],
	['messagesSent', 'ensemble_messages_sent_total', 'WebSocket messages sent'],
	['busMessagesIn', 'ensemble_bus_messages_in_total', 'Cross-process messages received'],
	['busMessagesOut', 'ensemble_bus_messages_out_total', 'Cross-process messages published'],
	[
		'resyncs',
		'ensemble_resyncs_total',
		'Documents re-synced from storage after a missed cross-process message'
	],
	[
		'updatesHeldBack',
		'ensemble_updates_held_back_total',
		'Updates dropped because they depended on changes the document lacked (the sender re-syncs)'
	],
	[
		'documentsBuilt',
		'ensemble_documents_built_total',
		'Cold-loaded documents decoded into a Y.Doc (a write or a diff needed one)'
	]
];

export function createMetrics(clock: Clock): Metrics {
	const registry = new Registry();
	collectDefaultMetrics({ register: registry });
	let relay: RelayApi | null = null;
	const stats = (): RelayStats | null => relay?.stats() ?? null;

	new Gauge({
		name: 'ensemble_connections',
		help: 'Open WebSocket connections to documents',
		registers: [registry],
		collect() {
			this.set(stats()?.connections ?? 0);
		}
	});
	new Gauge({
		name: 'ensemble_documents_loaded',
		help: 'Documents loaded in memory',
		registers: [registry],
		collect() {
			this.set(stats()?.documentsLoaded ?? 0);
		}
	});
	for (const [key, name, help] of COUNTERS) {
		new Counter({
			name,
			help,
			registers: [registry],
			collect() {
				this.reset();
				this.inc(stats()?.[key] ?? 0);
			}
		});
	}
	let last = { at: clock.now(), updates: 0 };
	new Gauge({
		name: 'ensemble_updates_per_second',
		help: 'Updates received per second since the previous scrape',
		registers: [registry],
		collect() {
			const now = clock.now();
			const updates = stats()?.updatesReceived ?? 0;
			const seconds = (now - last.at) / 1000;
			this.set(seconds > 0 ? Math.max(0, updates - last.updates) / seconds : 0);
			last = { at: now, updates };
		}
	});
	const storeLatency = new Histogram({
		name: 'ensemble_store_latency_seconds',
		help: 'Time a durable store call took, including waiting for its group commit',
		labelNames: ['op'] as const,
		buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
		registers: [registry]
	});
	const busLatency = new Histogram({
		name: 'ensemble_bus_publish_seconds',
		help: 'Time to publish a cross-process message (with Redis: one round trip)',
		labelNames: ['op'] as const,
		buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
		registers: [registry]
	});
	const upgrades = new Counter({
		name: 'ensemble_ws_upgrades_total',
		help: 'WebSocket upgrades by outcome',
		labelNames: ['outcome'] as const,
		registers: [registry]
	});
	return {
		registry,
		storeLatency,
		busLatency,
		upgrades,
		attachRelay(r) {
			relay = r;
		}
	};
}

/**
 * `target` with the methods named in `ops` timed into `latency` (label op). A
 * Proxy rather than a subclass, because the stores and buses keep their state in
 * private fields (methods are bound to the real instance).
 */
export function timed<T extends object>(
	target: T,
	ops: Readonly<Record<string, string>>,
	latency: Histogram<'op'>
): T {
	return new Proxy(target, {
		get(object, property) {
			const value: unknown = Reflect.get(object, property, object);
			if (typeof value !== 'function') return value;
			const bound = (value as (...args: never[]) => unknown).bind(object);
			const op = typeof property === 'string' ? ops[property] : undefined;
			if (op === undefined) return bound;
			return async (...args: never[]): Promise<unknown> => {
				const started = performance.now();
				try {
					return await bound(...args);
				} finally {
					latency.observe({ op }, (performance.now() - started) / 1000);
				}
			};
		}
	});
}

export function timedStorage<S extends Storage>(storage: S, latency: Histogram<'op'>): S {
	return timed(storage, { appendUpdates: 'append', loadDoc: 'load' }, latency);
}
