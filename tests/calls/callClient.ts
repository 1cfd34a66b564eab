// A call participant for server tests: a real WebSocket on /ws/{workspace}/call
// that records every message and waits for the one a test expects.

import WebSocket from 'ws';
import type { ServerCallMessage } from '../../server/protocol/call.ts';
import { withDeadline } from '../helpers/wait.ts';

export class CallClient {
	readonly socket: WebSocket;
	readonly received: ServerCallMessage[] = [];
	readonly closed: Promise<{ code: number; reason: string }>;
	#waiters: Array<() => void> = [];

	constructor(url: string) {
		this.socket = new WebSocket(url);
		this.socket.on('message', (data: Buffer) => {
			this.received.push(JSON.parse(data.toString('utf8')) as ServerCallMessage);
			for (const w of this.#waiters.splice(0)) w();
		});
		this.closed = new Promise((resolve) =>
			this.socket.on('close', (code, reason) => {
				resolve({ code, reason: reason.toString() });
				for (const w of this.#waiters.splice(0)) w();
			})
		);
		this.socket.on('error', () => undefined);
	}

	/** Joins `workspace` on the server at `wsUrl` with a token and waits for the welcome. */
	static async join(wsUrl: string, workspace: string, token: string): Promise<CallClient> {
		const client = new CallClient(`${wsUrl}/ws/${workspace}/call?token=${token}`);
		await client.next((m) => m.type === 'welcome', 'the welcome');
		return client;
	}

	get peer(): string {
		const welcome = this.received.find((m) => m.type === 'welcome');
		if (welcome?.type !== 'welcome') throw new Error('not welcomed');
		return welcome.peer;
	}

	/** The first message received (so far or later) that matches. */
	async next<T extends ServerCallMessage>(
		match: (m: ServerCallMessage) => m is T,
		what: string,
		ms?: number
	): Promise<T>;
	async next(
		match: (m: ServerCallMessage) => boolean,
		what: string,
		ms?: number
	): Promise<ServerCallMessage>;
	async next(
		match: (m: ServerCallMessage) => boolean,
		what: string,
		ms = 5000
	): Promise<ServerCallMessage> {
		return withDeadline(
			new Promise<ServerCallMessage>((resolve, reject) => {
				const check = () => {
					const found = this.received.find(match);
					if (found) return resolve(found);
					if (this.socket.readyState === WebSocket.CLOSED)
						return reject(new Error(`closed before ${what}`));
					this.#waiters.push(check);
				};
				check();
			}),
			what,
			ms
		);
	}

	send(message: unknown): void {
		this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
	}

	signal(to: string, marker: string): void {
		this.send({ type: 'signal', to, data: { candidate: { candidate: marker, sdpMid: '0' } } });
	}

	/** Signals received, by the marker they carried. */
	markers(): string[] {
		return this.received.flatMap((m) =>
			m.type === 'signal' && typeof m.data.candidate?.candidate === 'string'
				? [m.data.candidate.candidate]
				: []
		);
	}

	close(): void {
		this.socket.close();
	}
}

/** The close code of a socket the server refuses (it completes the handshake, then closes). */
export function refusedWith(url: string): Promise<number> {
	const socket = new WebSocket(url);
	socket.on('error', () => undefined);
	return withDeadline(
		new Promise<number>((resolve) => socket.on('close', (code) => resolve(code))),
		`the server to close ${url.split('?')[0]}`
	);
}
