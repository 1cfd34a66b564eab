// A TCP proxy on node:net between the server processes and Redis or PostgreSQL,
// for the fault suite (tests/faults/): it can cut every connection (and refuse
// new ones), pause them (bytes are held, sockets stay open: a stalled service)
// or slow them (every chunk delayed), and heal. The services themselves are
// untouched, so other tests that use them carry on.

import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyFault = 'cut' | 'pause' | 'slow';

/** One direction of one connection: chunks leave in order, each at its due time. */
class Pipe {
	readonly #queue: { chunk: Buffer; due: number }[] = [];
	#timer: ReturnType<typeof setTimeout> | null = null;
	#ended = false;
	readonly #to: Socket;
	readonly #proxy: FaultProxy;

	constructor(to: Socket, proxy: FaultProxy) {
		this.#to = to;
		this.#proxy = proxy;
	}

	push(chunk: Buffer): void {
		this.#queue.push({ chunk, due: Date.now() + this.#proxy.delayMs });
		this.flush();
	}

	end(): void {
		this.#ended = true;
		this.flush();
	}

	flush(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		if (this.#proxy.paused || this.#to.destroyed) return;
		const now = Date.now();
		while (this.#queue.length > 0 && (this.#queue[0]?.due ?? 0) <= now) {
			const next = this.#queue.shift();
			if (next) this.#to.write(next.chunk);
		}
		const head = this.#queue[0];
		if (head) this.#timer = setTimeout(() => this.flush(), head.due - now);
		else if (this.#ended) this.#to.end();
	}

	stop(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		this.#queue.length = 0;
	}
}

export class FaultProxy {
	/** Bytes are held (not dropped) while paused. */
	paused = false;
	/** Added to every chunk while slow. */
	delayMs = 0;
	#cut = false;
	readonly #server: Server;
	readonly #target: { host: string; port: number };
	readonly #links = new Set<{ client: Socket; upstream: Socket; pipes: Pipe[] }>();
	/** Connections accepted so far (a client that reconnects after a cut makes a new one). */
	connections = 0;

	private constructor(server: Server, target: { host: string; port: number }) {
		this.#server = server;
		this.#target = target;
	}

	/** A proxy on a free port of 127.0.0.1 in front of `url`'s host and port. */
	static async start(url: string, defaultPort: number): Promise<FaultProxy> {
		const parsed = new URL(url);
		const target = { host: parsed.hostname, port: Number(parsed.port || defaultPort) };
		const server = createServer();
		const proxy = new FaultProxy(server, target);
		server.on('connection', (client) => proxy.#accept(client));
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		return proxy;
	}

	get port(): number {
		const address = this.#server.address();
		if (typeof address !== 'object' || address === null) throw new Error('proxy not listening');
		return address.port;
	}

	/** `url` with its host and port replaced by this proxy's. */
	url(url: string): string {
		const parsed = new URL(url);
		parsed.hostname = '127.0.0.1';
		parsed.port = String(this.port);
		return parsed.toString();
	}

	/** Drops every open connection and refuses new ones (reset at once) until healed. */
	cut(): void {
		this.#cut = true;
		for (const link of this.#links) this.#destroy(link);
	}

	/** Holds every byte in both directions (new connections are accepted, then stall). */
	pause(): void {
		this.paused = true;
	}

	/** Delays every chunk by `ms` in both directions. */
	slow(ms: number): void {
		this.delayMs = ms;
	}

	fault(kind: ProxyFault, slowMs = 200): void {
		if (kind === 'cut') this.cut();
		else if (kind === 'pause') this.pause();
		else this.slow(slowMs);
	}

	/** Back to a plain proxy; held bytes flow on. */
	heal(): void {
		this.#cut = false;
		this.paused = false;
		this.delayMs = 0;
		for (const link of this.#links) for (const pipe of link.pipes) pipe.flush();
	}

	async close(): Promise<void> {
		for (const link of this.#links) this.#destroy(link);
		await new Promise<void>((resolve) => this.#server.close(() => resolve()));
	}

	#accept(client: Socket): void {
		if (this.#cut) {
			client.resetAndDestroy();
			return;
		}
		this.connections++;
		const upstream = connect(this.#target);
		const toUpstream = new Pipe(upstream, this);
		const toClient = new Pipe(client, this);
		const link = { client, upstream, pipes: [toUpstream, toClient] };
		this.#links.add(link);
		client.on('data', (chunk: Buffer) => toUpstream.push(chunk));
		upstream.on('data', (chunk: Buffer) => toClient.push(chunk));
		client.on('end', () => toUpstream.end());
		upstream.on('end', () => toClient.end());
		for (const socket of [client, upstream]) {
			socket.on('error', () => this.#destroy(link));
			socket.on('close', () => this.#destroy(link));
		}
	}

	#destroy(link: { client: Socket; upstream: Socket; pipes: Pipe[] }): void {
		if (!this.#links.delete(link)) return;
		for (const pipe of link.pipes) pipe.stop();
		link.client.resetAndDestroy();
		link.upstream.destroy();
	}
}
