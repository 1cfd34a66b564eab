// A test client for the seed's JSON protocol over a real socket: records every
// message, waits for the ones a test expects, and can drive an OtTextClient.

import WebSocket from 'ws';
import { OtTextClient } from '../../server/compat/client.ts';
import type { Operation } from '../../server/compat/ot.ts';
import { DEFAULT_DEADLINE_MS, withDeadline } from '../helpers/wait.ts';

export interface ServerMessage {
	readonly type: string;
	readonly [key: string]: unknown;
}

export interface WorkspaceState extends ServerMessage {
	readonly state: Record<string, unknown> & { hyperparameters: Record<string, unknown> };
	readonly users: { id: string; name: string; color: string; current_view: string }[];
	readonly you: { id: string; name: string; color: string; role: string; client_id: number };
	readonly files: Record<string, { content: string; revision: number }>;
}

export interface TextOp extends ServerMessage {
	readonly file: string;
	readonly revision: number;
	readonly ops: Operation[];
	readonly client_id: number;
	readonly user_id: string | null;
}

export class JsonClient {
	readonly ws: WebSocket;
	readonly messages: ServerMessage[] = [];
	readonly closed: Promise<number>;
	welcome!: WorkspaceState;
	readonly #waiters = new Set<() => void>();
	#listeners: ((m: ServerMessage) => void)[] = [];

	private constructor(ws: WebSocket) {
		this.ws = ws;
		this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
		ws.on('message', (data: Buffer) => {
			const m = JSON.parse(data.toString('utf8')) as ServerMessage;
			this.messages.push(m);
			for (const l of this.#listeners) l(m);
			for (const w of [...this.#waiters]) w();
		});
		ws.on('error', () => {});
	}

	/** Connects and waits for workspace_state. */
	static async connect(url: string, ms = DEFAULT_DEADLINE_MS): Promise<JsonClient> {
		const ws = new WebSocket(url);
		const client = new JsonClient(ws);
		const first = client.waitFor((m) => m.type === 'workspace_state', 'workspace_state', 0, ms);
		const closedEarly = client.closed.then((code) => {
			throw new Error(`closed with ${code} before workspace_state`);
		});
		client.welcome = (await Promise.race([first, closedEarly])) as WorkspaceState;
		return client;
	}

	get clientId(): number {
		return this.welcome.you.client_id;
	}

	onMessage(listener: (m: ServerMessage) => void): void {
		this.#listeners.push(listener);
	}

	send(message: unknown): void {
		this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
	}

	/** How many messages have arrived (to wait for ones after this point). */
	mark(): number {
		return this.messages.length;
	}

	/** The first message from index `from` on that matches. */
	waitFor(
		match: (m: ServerMessage) => boolean,
		what: string,
		from = 0,
		ms = DEFAULT_DEADLINE_MS
	): Promise<ServerMessage> {
		const find = () => this.messages.slice(from).find(match);
		const found = find();
		if (found) return Promise.resolve(found);
		let waiter = () => {};
		return withDeadline(
			new Promise<ServerMessage>((resolve) => {
				waiter = () => {
					const m = find();
					if (m) resolve(m);
				};
				this.#waiters.add(waiter);
			}),
			what,
			ms
		).finally(() => this.#waiters.delete(waiter));
	}

	/** Round trip: everything the server sent before the pong has arrived. */
	async barrier(): Promise<void> {
		const from = this.mark();
		this.send({ type: 'ping' });
		await this.waitFor((m) => m.type === 'pong', 'pong', from);
	}

	since(from: number, type: string): ServerMessage[] {
		return this.messages.slice(from).filter((m) => m.type === type);
	}

	close(): Promise<number> {
		if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
			this.ws.close();
		return this.closed;
	}
}

/** An OT client for one file, wired to a JsonClient. */
export function textClient(json: JsonClient, file: string): OtTextClient {
	const start = json.welcome.files[file] ?? { content: '', revision: 0 };
	const ot = new OtTextClient(json.clientId, start.content, start.revision, (revision, ops) =>
		json.send({ type: 'text_op', file, revision, ops })
	);
	json.onMessage((m) => {
		if (m.type === 'text_op' && (m as TextOp).file === file) {
			const t = m as TextOp;
			ot.applyRemote(t.ops, t.client_id, t.revision);
		} else if (m.type === 'text_op_ack' && m.file === file) {
			ot.acknowledge(m.revision as number);
		}
	});
	return ot;
}
