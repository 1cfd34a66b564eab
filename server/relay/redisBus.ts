// The bus over Redis pub/sub (BUS1…BUS3): one connection publishes, another
// subscribes (Redis requires a dedicated connection for subscriptions). Pub/sub
// drops messages while a connection is down; after a reconnect, gap listeners
// are told so that relays re-sync their loaded documents from storage. Lost
// messages while connected are noticed by the relay's sequence numbers.

import { Redis } from 'ioredis';
import type { Logger } from '../runtime.ts';
import type { Bus, BusHandler } from './bus.ts';

export interface RedisBusOptions {
	readonly url: string;
	readonly logger: Logger;
	/** Prefix of every channel, so that several deployments can share a Redis. */
	readonly prefix?: string;
	/** A command unanswered this long fails (default 2 s). */
	readonly commandTimeoutMs?: number;
}

export class RedisBus implements Bus {
	readonly #pub: Redis;
	readonly #sub: Redis;
	readonly #prefix: string;
	readonly #logger: Logger;
	readonly #handlers = new Map<string, Set<BusHandler>>();
	readonly #gapListeners = new Set<() => void>();
	readonly #subscribing = new Map<string, Promise<unknown>>();
	#wasConnected = false;
	#lostConnection = false;
	#closed = false;

	constructor(options: RedisBusOptions) {
		this.#prefix = options.prefix ?? 'ensemble:';
		this.#logger = options.logger;
		// A command fails rather than waits for ever when Redis stalls (a paused
		// process, a dead link): a subscription that failed is retried (BUS4).
		const common = {
			maxRetriesPerRequest: 2,
			enableOfflineQueue: true,
			lazyConnect: false,
			commandTimeout: options.commandTimeoutMs ?? 2000
		};
		// Named after the prefix so an operator (or a test) can find them in CLIENT LIST.
		this.#pub = new Redis(options.url, { ...common, connectionName: `${this.#prefix}pub` });
		this.#sub = new Redis(options.url, { ...common, connectionName: `${this.#prefix}sub` });
		for (const client of [this.#pub, this.#sub]) {
			client.on('error', (err: Error) => this.#logger.warn({ err: err.message }, 'redis error'));
		}
		this.#sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
			const handlers = this.#handlers.get(channel.toString('utf8'));
			if (!handlers) return;
			const bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
			for (const handler of handlers) {
				try {
					handler(bytes);
				} catch (err) {
					this.#logger.error({ err: String(err) }, 'bus handler failed');
				}
			}
		});
		this.#sub.on('close', () => {
			if (this.#wasConnected && !this.#closed) this.#lostConnection = true;
		});
		this.#sub.on('ready', () => {
			// ioredis re-subscribes on reconnect; what was published meanwhile is gone.
			if (this.#lostConnection) {
				this.#lostConnection = false;
				this.#logger.warn({}, 'redis subscription reconnected; messages may have been lost');
				for (const listener of this.#gapListeners) listener();
			}
			this.#wasConnected = true;
		});
	}

	async publish(channel: string, message: Uint8Array): Promise<void> {
		await this.#pub.publish(
			this.#prefix + channel,
			Buffer.from(message.buffer, message.byteOffset, message.byteLength)
		);
	}

	async subscribe(channel: string, handler: BusHandler): Promise<() => void> {
		const full = this.#prefix + channel;
		let set = this.#handlers.get(full);
		if (!set) {
			set = new Set();
			this.#handlers.set(full, set);
			const subscribing = this.#sub.subscribe(full);
			this.#subscribing.set(full, subscribing);
			// A failed subscription is forgotten, so that the next caller tries
			// again (a Redis blip must not leave the channel dead until restart).
			subscribing.catch(() => {
				if (this.#subscribing.get(full) !== subscribing) return;
				this.#subscribing.delete(full);
				if (this.#handlers.get(full)?.size === 0) this.#handlers.delete(full);
			});
		}
		// A second subscriber of the channel also waits until Redis confirmed it.
		await this.#subscribing.get(full);
		const wrapped: BusHandler = (m) => handler(m);
		set.add(wrapped);
		return () => {
			const s = this.#handlers.get(full);
			if (!s) return;
			s.delete(wrapped);
			if (s.size === 0) {
				this.#handlers.delete(full);
				this.#subscribing.delete(full);
				this.#sub
					.unsubscribe(full)
					.catch((err: unknown) =>
						this.#logger.warn({ err: String(err), channel: full }, 'redis unsubscribe failed')
					);
			}
		};
	}

	onGap(listener: () => void): () => void {
		this.#gapListeners.add(listener);
		return () => this.#gapListeners.delete(listener);
	}

	/** True while both connections are up (for /readyz). */
	healthy(): Promise<boolean> {
		return Promise.resolve(this.#pub.status === 'ready' && this.#sub.status === 'ready');
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.#handlers.clear();
		await Promise.allSettled([this.#pub.quit(), this.#sub.quit()]);
	}
}
