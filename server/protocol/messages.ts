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
	saved: 100
} as const;

/** Query parameter that opts a connection into the saved acknowledgement. */
export const ACK_PARAM = 'ack';
