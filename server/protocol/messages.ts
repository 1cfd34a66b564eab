// Message types on `/ws/{workspace}/{doc}`. The first four are y-websocket's own;
// Ensemble's extensions use numbers the stock client ignores and are only sent
// to connections that asked for them (`?ack=1`).

export const MessageType = {
	sync: 0,
	awareness: 1,
	auth: 2,
	queryAwareness: 3,
	/**
	 * Extension: `[100, varUint8Array(stateVector)]`. Everything the state vector
	 * covers is durably stored. Sent to an opted-in connection after a durable write
	 * that included its updates, and once after its initial sync.
	 */
	saved: 100,
	/**
	 * Extension: `[101, varUint(state)]`, the document's storage: 0 changes are
	 * being stored, 1 they are not (storage failed or has not answered for
	 * `storeStallMs`): nothing is acknowledged until a 0 follows. Sent to an
	 * opted-in connection when it changes, and on connect while it is 1.
	 */
	storage: 101,
	/**
	 * Extension, client to server: `[102, varUint(withinMs)]`, "I am here and will
	 * say so again within withinMs". A connection that sent one and then stays
	 * silent for longer is taken for gone (a dropped network sends no close) and
	 * closed, so that the others see its presence go at once (PRES7).
	 */
	alive: 102
} as const;

/** Values of the `storage` message. */
export const StorageState = { storing: 0, notStoring: 1 } as const;

/** Bounds of `alive`'s withinMs: at least a few seconds, at most ten minutes (hidden tabs). */
export const ALIVE_WITHIN_MS = { min: 2000, max: 600_000 } as const;

/** Query parameter that opts a connection into the saved acknowledgement. */
export const ACK_PARAM = 'ack';
