// A TCP proxy between a client and a service (Redis here) that a test can cut:
// while cut, open links are destroyed and new ones refused, as when the network
// or the service blips.

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class TcpProxy {
	readonly #server: Server;
	readonly #sockets = new Set<Socket>();
	#cut = false;
	port = 0;

	constructor(target: { host: string; port: number }) {
		this.#server = createServer((client) => {
			if (this.#cut) {
				client.destroy();
				return;
			}
			const upstream = createConnection(target);
			for (const s of [client, upstream]) {
				this.#sockets.add(s);
				s.on('close', () => this.#sockets.delete(s));
				s.on('error', () => {});
			}
			client.pipe(upstream).pipe(client);
			client.on('close', () => upstream.destroy());
			upstream.on('close', () => client.destroy());
		});
	}

	async listen(): Promise<string> {
		await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
		this.port = (this.#server.address() as AddressInfo).port;
		return `redis://127.0.0.1:${this.port}`;
	}

	/** Drops every open link and refuses new ones until restore(). */
	cut(): void {
		this.#cut = true;
		for (const s of this.#sockets) s.destroy();
	}

	restore(): void {
		this.#cut = false;
	}

	async close(): Promise<void> {
		this.cut();
		await new Promise<void>((resolve) => this.#server.close(() => resolve()));
	}
}
