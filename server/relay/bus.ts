// What connects relay processes: publish/subscribe of binary messages per
// channel. MemoryBus connects relays inside one process (tests, and the default
// when there is one process); RedisBus connects processes (redisBus.ts).

export type BusHandler = (message: Uint8Array) => void;

export interface Bus {
	/** Resolves once the message has been handed to the transport. */
	publish(channel: string, message: Uint8Array): Promise<void>;
	/**
	 * Resolves once messages published after it resolves will be delivered.
	 * The returned function unsubscribes.
	 */
	subscribe(channel: string, handler: BusHandler): Promise<() => void>;
	/**
	 * Called when messages may have been lost (for example the connection to
	 * Redis dropped and came back), so that subscribers re-sync from storage.
	 */
	onGap(listener: () => void): () => void;
	close(): Promise<void>;
	/**
	 * How many handlers would receive a message published on `channel`, when the
	 * transport can tell (in memory); undefined when it cannot (Redis: other
	 * processes). Lets a publisher skip messages only it would receive.
	 */
	listeners?(channel: string): number | undefined;
}

/**
 * An in-process bus. Every MemoryBus made from the same hub sees the others'
 * messages, as separate processes on one Redis would. Delivery is asynchronous
 * (a microtask later), like a real transport.
 */
export class MemoryHub {
	readonly #channels = new Map<string, Set<BusHandler>>();

	connect(): MemoryBus {
		return new MemoryBus(this.#channels);
	}
}

export class MemoryBus implements Bus {
	readonly #channels: Map<string, Set<BusHandler>>;
	readonly #mine = new Set<{ channel: string; handler: BusHandler }>();
	#closed = false;

	/** A bus of its own, or one endpoint of a MemoryHub. */
	constructor(channels: Map<string, Set<BusHandler>> = new Map()) {
		this.#channels = channels;
	}

	publish(channel: string, message: Uint8Array): Promise<void> {
		if (this.#closed) return Promise.reject(new Error('bus closed'));
		const handlers = this.#channels.get(channel);
		if (handlers) {
			const copy = message.slice();
			for (const handler of [...handlers]) queueMicrotask(() => handler(copy));
		}
		return Promise.resolve();
	}

	listeners(channel: string): number {
		return this.#channels.get(channel)?.size ?? 0;
	}

	subscribe(channel: string, handler: BusHandler): Promise<() => void> {
		if (this.#closed) return Promise.reject(new Error('bus closed'));
		let set = this.#channels.get(channel);
		if (!set) this.#channels.set(channel, (set = new Set()));
		// Wrap so that the same function may be subscribed twice and removed once.
		const wrapped: BusHandler = (m) => handler(m);
		set.add(wrapped);
		const entry = { channel, handler: wrapped };
		this.#mine.add(entry);
		return Promise.resolve(() => {
			this.#mine.delete(entry);
			const s = this.#channels.get(channel);
			s?.delete(wrapped);
			if (s?.size === 0) this.#channels.delete(channel);
		});
	}

	onGap(): () => void {
		return () => {};
	}

	close(): Promise<void> {
		this.#closed = true;
		for (const { channel, handler } of this.#mine) this.#channels.get(channel)?.delete(handler);
		this.#mine.clear();
		return Promise.resolve();
	}
}
