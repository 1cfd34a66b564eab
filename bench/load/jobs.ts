// Jobs the orchestrator sends to a load process, and what comes back.

import type { RoomRef } from '../lib/clients.ts';
import type { TraceName } from '../lib/trace.ts';

export interface ReplayJob {
	readonly kind: 'replay';
	readonly ref: RoomRef;
	readonly trace: TraceName;
	/** null: as fast as possible (with `window` operations in flight). */
	readonly rate: number | null;
	readonly window: number;
	/** A client-side token bucket (ops per second, burst) for servers that limit a connection's messages. */
	readonly bucket: { readonly rate: number; readonly burst: number } | null;
	/** The measured part stops at whichever comes first; the rest goes in one transaction. */
	readonly maxOps: number;
	readonly maxMs: number;
}

export interface ReplayResult {
	readonly ops: number;
	readonly elapsedMs: number;
	/** Delivery times (ms) of each measured operation. */
	readonly samples: number[];
	readonly textOk: boolean;
	readonly finalLength: number;
	readonly clientCpuUs: number;
}

/** Editors and readers in many rooms; every non-local stamp is a delivery sample. */
export interface ClientsJob {
	readonly kind: 'clients';
	readonly rooms: readonly RoomRef[];
	readonly clientsPerRoom: number;
	/** The first `writersPerRoom` clients of each room type at `rate` stamps per second. */
	readonly writersPerRoom: number;
	readonly rate: number;
	/** Writers move their cursor (awareness) with every stamp. */
	readonly cursor: boolean;
	/** Every client has a presence state, renewed every 15 s by y-protocols. */
	readonly presence: boolean;
	/** Every client renews its presence once at this offset into the run (a renewal storm). */
	readonly renewAtMs: number | null;
	readonly durationMs: number;
	/** Connect this many at a time, waiting for their sync. */
	readonly connectBatch: number;
	/** Ask Ensemble for saved acknowledgements (what the app does). */
	readonly ack: boolean;
}

export interface ClientsResult {
	readonly samples: number[];
	readonly sent: number;
	readonly awarenessUpdates: number;
	readonly clientCpuUs: number;
	readonly wallMs: number;
}

export interface ColdLoadJob {
	readonly kind: 'coldLoad';
	readonly refs: readonly RoomRef[];
	readonly trace: TraceName;
}

export interface ColdLoadResult {
	/** Connect → synced with the whole text, per document, in order. */
	readonly ms: number[];
	readonly textOk: boolean;
}

/** Uploads updates (files of raw Yjs updates) to a room and waits until the server has them. */
export interface SeedJob {
	readonly kind: 'seed';
	readonly refs: readonly RoomRef[];
	/** Paths of files each holding one Yjs update, applied in order. */
	readonly updateFiles: readonly string[];
	/** Stay connected (holding the documents loaded) until released with 'close'. */
	readonly hold: boolean;
}

export interface SeedResult {
	readonly rooms: number;
	readonly confirmedBy: 'saved' | 'echo';
}

export interface LoadersJob {
	readonly kind: 'loaders';
	readonly ref: RoomRef;
	readonly clients: number;
	readonly durationMs: number;
}

export interface LoadersResult {
	readonly syncs: number;
	readonly bytes: number;
	readonly errors: number;
}

export interface IdleJob {
	readonly kind: 'idle';
	/** One raw connection per entry (repeat a room to put many on it). */
	readonly refs: readonly RoomRef[];
	readonly connectBatch: number;
}

export interface IdleResult {
	readonly connected: number;
}

export interface DurabilityJob {
	readonly kind: 'durability';
	/** One client per room, each sending `rate` updates per second. */
	readonly refs: readonly RoomRef[];
	readonly rate: number;
	readonly durationMs: number;
}

export interface DurabilityResult {
	readonly sent: number;
	readonly saved: number;
	readonly samples: number[];
	readonly elapsedMs: number;
	readonly acks: number;
}

export type Job =
	ReplayJob | ClientsJob | ColdLoadJob | SeedJob | LoadersJob | IdleJob | DurabilityJob;

export type WorkerMessage =
	| { readonly type: 'hello' }
	| { readonly type: 'result'; readonly result: unknown }
	| { readonly type: 'error'; readonly message: string }
	| { readonly type: 'mark'; readonly name: string; readonly data: unknown };

export interface Release {
	readonly type: 'release';
	readonly name: string;
	readonly data: unknown;
}
