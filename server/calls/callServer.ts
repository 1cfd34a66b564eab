// WebRTC signalling between the members in a workspace's call, at
// `/ws/{workspace}/call` (CALL1…CALL9 in server/SPEC.md). The upgrade handler
// authenticates the socket (members only, viewers too); being connected is
// being in the call. The server routes SDP and ICE candidates to the one peer
// they are addressed to, here or through the bus on another process, and tells
// everyone who joined, changed (muted, camera, sharing) and left. Media never
// touches the server.

import { randomBytes } from 'node:crypto';
import type { Bus } from '../relay/bus.ts';
import type { Identity, RelayApi } from '../relay/api.ts';
import { TokenBucket } from '../relay/limits.ts';
import { CloseCode } from '../protocol/closeCodes.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';
import {
	CALL_MESSAGE_BURST,
	CALL_MESSAGES_PER_SECOND,
	MAX_CALL_MESSAGE_BYTES,
	MAX_CALL_PEERS,
	parseClientCallMessage,
	type CallPeer,
	type CallState,
	type CallUser,
	type IceServer,
	type ServerCallMessage,
	type SignalData
} from '../protocol/call.ts';
import type { Clock, Logger } from '../runtime.ts';

/** What the call layer needs of a socket (ws's WebSocket has it; tests may pass fakes). */
export interface CallSocket {
	readonly readyState: number;
	send(data: string): void;
	close(code?: number, reason?: string): void;
	/** Drops the connection without a closing handshake (a peer that stopped answering). */
	terminate?(): void;
	ping?(): void;
	on(
		event: 'message',
		listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void
	): unknown;
	on(event: 'close', listener: () => void): unknown;
	on(event: 'pong', listener: () => void): unknown;
	on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface CallLimits {
	readonly maxMessageBytes: number;
	readonly messagesPerSecond: number;
	readonly messageBurst: number;
	readonly maxPeers: number;
	/** The server pings every socket this often; one that did not answer the last ping is dropped. */
	readonly pingMs: number;
	/** Each process says which calls it serves this often; one silent for 3 periods is gone (its peers left). */
	readonly aliveMs: number;
}

export const DEFAULT_CALL_LIMITS: CallLimits = {
	maxMessageBytes: MAX_CALL_MESSAGE_BYTES,
	messagesPerSecond: CALL_MESSAGES_PER_SECOND,
	messageBurst: CALL_MESSAGE_BURST,
	maxPeers: MAX_CALL_PEERS,
	pingMs: 10_000,
	aliveMs: 5_000
};

export interface CallServerOptions {
	readonly bus: Bus;
	readonly relay: Pick<RelayApi, 'onRoleChange'>;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly iceServers: readonly IceServer[];
	readonly limits?: Partial<CallLimits>;
}

/** Between processes, on `call:{workspace}`; `o` is the sending process. */
type BusMessage =
	| ({ o: string; k: 'joined' } & CallPeer)
	| ({ o: string; k: 'here'; to: string } & CallPeer)
	| { o: string; k: 'left'; peer: string }
	| { o: string; k: 'state'; peer: string; state: CallState }
	| { o: string; k: 'signal'; to: string; from: string; user: CallUser; data: SignalData }
	| { o: string; k: 'alive' };

interface LocalPeer {
	readonly peer: string;
	user: CallUser;
	state: CallState;
	readonly socket: CallSocket;
	readonly bucket: TokenBucket;
	answered: boolean;
}

interface RemotePeer extends CallPeer {
	readonly origin: string;
}

class CallRoom {
	readonly local = new Map<string, LocalPeer>();
	readonly remote = new Map<string, RemotePeer>();
	/** When each other process serving this call was last heard from. */
	readonly heard = new Map<string, number>();
	unsubscribe: (() => void) | null = null;
}

const QUIET: CallState = { muted: false, camera: false, sharing: false };

function newPeerId(): string {
	return randomBytes(16).toString('base64url');
}

export class CallServer {
	readonly #bus: Bus;
	readonly #clock: Clock;
	readonly #logger: Logger;
	readonly #iceServers: IceServer[];
	readonly #limits: CallLimits;
	readonly #origin = newPeerId();
	readonly #rooms = new Map<WorkspaceId, Promise<CallRoom>>();
	readonly #offRoles: () => void;
	readonly #timers: ReturnType<typeof setInterval>[];
	#closed = false;

	constructor(options: CallServerOptions) {
		this.#bus = options.bus;
		this.#clock = options.clock;
		this.#logger = options.logger.child({ part: 'calls' });
		this.#iceServers = [...options.iceServers];
		this.#limits = { ...DEFAULT_CALL_LIMITS, ...options.limits };
		// Removed from the workspace: out of its call at once, on every process (CALL7).
		this.#offRoles = options.relay.onRoleChange(
			({ workspace, user, role }) => void this.#roleChanged(workspace, user, role)
		);
		this.#timers = [
			setInterval(() => this.#pingAll(), this.#limits.pingMs),
			setInterval(() => this.#tellAlive(), this.#limits.aliveMs)
		];
		for (const t of this.#timers) t.unref();
	}

	/** Takes over an authenticated member's socket: they are in the call until it closes. */
	handleConnection(socket: CallSocket, workspace: WorkspaceId, identity: Identity): void {
		if (this.#closed) {
			socket.close(CloseCode.serviceRestart, 'server is shutting down');
			return;
		}
		socket.on('error', (err) => this.#logger.debug({ err: err.message }, 'call socket error'));
		let gone = false;
		socket.on('close', () => (gone = true));
		this.#room(workspace).then(
			(room) => {
				if (gone) return this.#release(workspace, room);
				this.#join(room, workspace, socket, identity);
			},
			(err: unknown) => {
				this.#logger.error({ err: String(err), workspace }, 'joining a call failed');
				socket.close(CloseCode.tryAgainLater, 'calls are unavailable right now; try again');
			}
		);
	}

	/** The workspace was deleted: its call ends (4404). */
	async closeWorkspace(workspace: WorkspaceId): Promise<void> {
		const room = await this.#rooms.get(workspace)?.catch(() => null);
		for (const p of room?.local.values() ?? [])
			p.socket.close(CloseCode.notFound, 'workspace deleted');
	}

	async close(): Promise<void> {
		this.#closed = true;
		this.#offRoles();
		for (const t of this.#timers) clearInterval(t);
		for (const promise of this.#rooms.values()) {
			const room = await promise.catch(() => null);
			for (const p of room?.local.values() ?? [])
				p.socket.close(CloseCode.serviceRestart, 'server restarting');
			room?.unsubscribe?.();
		}
		this.#rooms.clear();
	}

	/** The room of a workspace, subscribed to the bus before anyone joins it. */
	#room(workspace: WorkspaceId): Promise<CallRoom> {
		let promise = this.#rooms.get(workspace);
		if (!promise) {
			const room = new CallRoom();
			promise = this.#bus
				.subscribe(`call:${workspace}`, (bytes) => this.#fromBus(workspace, room, bytes))
				.then((off) => {
					room.unsubscribe = off;
					return room;
				});
			this.#rooms.set(workspace, promise);
			promise.catch(() => {
				if (this.#rooms.get(workspace) === promise) this.#rooms.delete(workspace);
			});
		}
		return promise;
	}

	#join(room: CallRoom, workspace: WorkspaceId, socket: CallSocket, identity: Identity): void {
		if (room.local.size + room.remote.size >= this.#limits.maxPeers) {
			socket.close(CloseCode.callFull, `the call is full (${this.#limits.maxPeers} people)`);
			return this.#release(workspace, room);
		}
		const user: CallUser = {
			id: identity.id,
			name: identity.name,
			color: identity.color,
			role: identity.role
		};
		const now = this.#clock.now();
		const me: LocalPeer = {
			peer: newPeerId(),
			user,
			state: QUIET,
			socket,
			bucket: new TokenBucket(this.#limits.messagesPerSecond, this.#limits.messageBurst, now),
			answered: true
		};
		const peers: CallPeer[] = [...room.local.values(), ...room.remote.values()].map(describe);
		room.local.set(me.peer, me);
		socket.on('pong', () => (me.answered = true));
		socket.on('message', (data, isBinary) => this.#onMessage(room, workspace, me, data, isBinary));
		socket.on('close', () => this.#leave(room, workspace, me));
		send(socket, { type: 'welcome', peer: me.peer, peers, iceServers: this.#iceServers });
		this.#toLocal(room, { type: 'joined', ...describe(me) }, me.peer);
		this.#publish(workspace, { o: this.#origin, k: 'joined', ...describe(me) });
		this.#logger.debug({ workspace, user: user.id, peer: me.peer }, 'joined a call');
	}

	#leave(room: CallRoom, workspace: WorkspaceId, me: LocalPeer): void {
		if (room.local.get(me.peer) !== me) return;
		room.local.delete(me.peer);
		this.#toLocal(room, { type: 'left', peer: me.peer });
		this.#publish(workspace, { o: this.#origin, k: 'left', peer: me.peer });
		this.#release(workspace, room);
	}

	/** Forgets a call no one on this process is in. */
	#release(workspace: WorkspaceId, room: CallRoom): void {
		if (room.local.size > 0) return;
		void this.#rooms.get(workspace)?.then((current) => {
			if (current !== room || room.local.size > 0) return;
			this.#rooms.delete(workspace);
			room.unsubscribe?.();
		});
	}

	#onMessage(
		room: CallRoom,
		workspace: WorkspaceId,
		me: LocalPeer,
		data: Buffer | ArrayBuffer | Buffer[],
		isBinary: boolean
	): void {
		const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
		if (bytes.byteLength > this.#limits.maxMessageBytes)
			return me.socket.close(CloseCode.payloadTooLarge, 'call message too large');
		if (!me.bucket.take(this.#clock.now()))
			return me.socket.close(CloseCode.tooFast, 'too many call messages');
		if (isBinary) return me.socket.close(CloseCode.unsupportedData, 'call messages are JSON text');
		const parsed = parseClientCallMessage(bytes.toString('utf8'));
		if (!parsed.ok) return me.socket.close(CloseCode.invalidPayload, parsed.problem);
		const message = parsed.message;
		if (message.type === 'state') {
			me.state = message.state;
			this.#toLocal(room, { type: 'state', peer: me.peer, state: me.state }, me.peer);
			this.#publish(workspace, { o: this.#origin, k: 'state', peer: me.peer, state: me.state });
			return;
		}
		// Routed to the one peer it names, wherever it is (CALL3); the sender is stamped here.
		const out: ServerCallMessage = {
			type: 'signal',
			from: me.peer,
			user: me.user,
			data: message.data
		};
		const local = room.local.get(message.to);
		if (local) return send(local.socket, out);
		if (room.remote.has(message.to)) {
			this.#publish(workspace, {
				o: this.#origin,
				k: 'signal',
				to: message.to,
				from: me.peer,
				user: me.user,
				data: message.data
			});
			return;
		}
		send(me.socket, {
			type: 'error',
			code: 'unknown_peer',
			message: `No one with peer id ${message.to} is in this call (they may have left).`
		});
	}

	#fromBus(workspace: WorkspaceId, room: CallRoom, bytes: Uint8Array): void {
		let m: BusMessage;
		try {
			m = JSON.parse(new TextDecoder().decode(bytes)) as BusMessage;
		} catch {
			return this.#logger.warn({ workspace }, 'malformed call message on the bus');
		}
		if (m.o === this.#origin) return;
		room.heard.set(m.o, this.#clock.now());
		switch (m.k) {
			case 'joined': {
				const { peer, user, state } = m;
				room.remote.set(peer, { peer, user, state, origin: m.o });
				this.#toLocal(room, { type: 'joined', peer, user, state });
				// The newcomer learns who is here on this process.
				for (const p of room.local.values())
					this.#publish(workspace, { o: this.#origin, k: 'here', to: peer, ...describe(p) });
				return;
			}
			case 'here': {
				const target = room.local.get(m.to);
				if (!target) return;
				const { peer, user, state } = m;
				room.remote.set(peer, { peer, user, state, origin: m.o });
				return send(target.socket, { type: 'joined', peer, user, state });
			}
			case 'left':
				if (room.remote.delete(m.peer)) this.#toLocal(room, { type: 'left', peer: m.peer });
				return;
			case 'state': {
				const remote = room.remote.get(m.peer);
				if (!remote) return;
				room.remote.set(m.peer, { ...remote, state: m.state });
				return this.#toLocal(room, { type: 'state', peer: m.peer, state: m.state });
			}
			case 'signal': {
				const target = room.local.get(m.to);
				if (target)
					send(target.socket, { type: 'signal', from: m.from, user: m.user, data: m.data });
				return;
			}
			case 'alive':
				return;
		}
	}

	#toLocal(room: CallRoom, message: ServerCallMessage, except?: string): void {
		for (const p of room.local.values()) if (p.peer !== except) send(p.socket, message);
	}

	#publish(workspace: WorkspaceId, message: BusMessage): void {
		this.#bus
			.publish(`call:${workspace}`, new TextEncoder().encode(JSON.stringify(message)))
			.catch((err: unknown) =>
				this.#logger.warn({ err: String(err), workspace }, 'publishing a call message failed')
			);
	}

	/** A socket that did not answer the last ping has lost its network: it leaves (CALL6). */
	#pingAll(): void {
		for (const promise of this.#rooms.values()) {
			void promise.then((room) => {
				for (const p of room.local.values()) {
					if (!p.answered) {
						if (p.socket.terminate) p.socket.terminate();
						else p.socket.close(CloseCode.goingAway, 'no answer to ping');
						continue;
					}
					p.answered = false;
					p.socket.ping?.();
				}
			});
		}
	}

	/** Says which calls this process serves, and forgets peers of processes gone silent (CALL6). */
	#tellAlive(): void {
		const now = this.#clock.now();
		for (const [workspace, promise] of this.#rooms) {
			void promise.then((room) => {
				if (room.local.size > 0) this.#publish(workspace, { o: this.#origin, k: 'alive' });
				for (const [origin, at] of room.heard) {
					if (now - at < 3 * this.#limits.aliveMs) continue;
					room.heard.delete(origin);
					for (const r of room.remote.values()) {
						if (r.origin !== origin) continue;
						room.remote.delete(r.peer);
						this.#toLocal(room, { type: 'left', peer: r.peer });
					}
				}
			});
		}
	}

	async #roleChanged(workspace: WorkspaceId, user: UserId, role: string | null): Promise<void> {
		const room = await this.#rooms.get(workspace)?.catch(() => null);
		for (const p of room?.local.values() ?? []) {
			if (p.user.id !== user) continue;
			if (role === null) p.socket.close(CloseCode.forbidden, 'access revoked');
		}
	}
}

function describe(p: CallPeer): CallPeer {
	return { peer: p.peer, user: p.user, state: p.state };
}

function send(socket: CallSocket, message: ServerCallMessage): void {
	if (socket.readyState === 1) socket.send(JSON.stringify(message));
}
