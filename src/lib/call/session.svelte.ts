// The call as the UI sees it: who is in it, their media, who is speaking, and
// our own controls. It drives a CallEngine (the mesh today) through its events
// only, so another engine can take its place.

import { joinCallStates, type CallUser } from '$shared/call.ts';
import { relayUrl } from '../sync/connection.svelte.ts';
import type { CallEngine, CallState, LocalMedia, PeerStreams, RemotePeer } from './engine.ts';
import { MeshCall } from './mesh.ts';

/** People the mesh carries well (CALL_MESH_SIZE, CALL8; README "Calls"). */
export const MESH_SIZE = 6;
/** A level above this is speaking. */
const SPEAKING = 0.04;

export interface Participant extends RemotePeer {
	readonly self: boolean;
	readonly streams: PeerStreams;
	readonly speaking: boolean;
}

const NO_STREAMS: PeerStreams = { audio: null, camera: null, screen: null };

export class CallSession {
	readonly #workspace: string;
	readonly #me: CallUser;
	#engine: CallEngine | null = null;
	#off: Array<() => void> = [];

	status = $state<'out' | 'joining' | 'in'>('out');
	/** What is wrong (devices, permissions, a lost call), in words; null when all is well. */
	problem = $state<string | null>(null);
	media = $state.raw<LocalMedia>({ microphone: false, camera: false, problem: null });
	mine = $state.raw<CallState>({ muted: false, camera: false, sharing: false });
	#self = $state('');
	#local = $state.raw<PeerStreams>(NO_STREAMS);
	#peers = $state.raw<Record<string, RemotePeer>>({});
	#streams = $state.raw<Record<string, PeerStreams>>({});
	#levels = $state<Record<string, number>>({});

	constructor(workspace: string, me: CallUser) {
		this.#workspace = workspace;
		this.#me = me;
	}

	/** Everyone in the call, us first. */
	readonly participants: Participant[] = $derived.by(() => {
		if (this.status !== 'in') return [];
		const me: Participant = {
			peer: this.#self,
			user: this.#me,
			state: this.mine,
			self: true,
			streams: this.#local,
			speaking: !this.mine.muted && (this.#levels[this.#self] ?? 0) > SPEAKING
		};
		const others = Object.values(this.#peers).map((p): Participant => ({
			...p,
			self: false,
			streams: this.#streams[p.peer] ?? NO_STREAMS,
			speaking: !p.state.muted && (this.#levels[p.peer] ?? 0) > SPEAKING
		}));
		return [me, ...others];
	});

	/** By user id, what the active-users bar shows: in the call, muted, sharing. */
	readonly byUser: ReadonlyMap<string, CallState> = $derived.by(() => {
		// eslint-disable-next-line svelte/prefer-svelte-reactivity -- built afresh by each derivation, never mutated after
		const map = new Map<string, CallState>();
		for (const p of this.participants) {
			const seen = map.get(p.user.id);
			map.set(p.user.id, seen ? joinCallStates(seen, p.state) : p.state);
		}
		return map;
	});

	async join(): Promise<void> {
		if (this.status !== 'out') return;
		this.status = 'joining';
		this.problem = null;
		const engine = new MeshCall(`${relayUrl(this.#workspace)}/call`);
		this.#engine = engine;
		this.#off = [
			engine.on('joined', (self, media) => {
				this.#self = self;
				this.media = media;
				this.problem = media.problem;
				this.#local = engine.local;
			}),
			engine.on('self', (state) => {
				this.mine = state;
				this.#local = engine.local;
			}),
			engine.on('peer', (p) => {
				this.#peers = { ...this.#peers, [p.peer]: { peer: p.peer, user: p.user, state: p.state } };
			}),
			engine.on(
				'streams',
				(peer, streams) => (this.#streams = { ...this.#streams, [peer]: streams })
			),
			engine.on('left', (peer) => {
				const { [peer]: _gone, ...peers } = this.#peers;
				const { [peer]: _media, ...streams } = this.#streams;
				this.#peers = peers;
				this.#streams = streams;
				delete this.#levels[peer];
			}),
			engine.on('level', (peer, level) => {
				// Only the crossing of the threshold matters to the UI.
				if ((this.#levels[peer] ?? 0) > SPEAKING !== level > SPEAKING) this.#levels[peer] = level;
			}),
			engine.on('ended', (message) => {
				this.#reset();
				this.problem = message;
			})
		];
		try {
			await engine.join();
			if (this.#engine !== engine) return;
			this.status = 'in';
		} catch (err) {
			if (this.#engine !== engine) return;
			this.#reset();
			this.problem = err instanceof Error ? err.message : String(err);
		}
	}

	leave(): void {
		this.#reset();
		this.problem = null;
	}

	toggleMute(): void {
		this.#engine?.setMuted(!this.mine.muted);
	}

	toggleCamera(): void {
		this.#engine?.setCamera(!this.mine.camera);
	}

	async toggleShare(): Promise<void> {
		if (this.mine.sharing) this.#engine?.stopShare();
		else if (this.#engine) this.problem = (await this.#engine.startShare()) ?? this.media.problem;
	}

	#reset(): void {
		for (const off of this.#off) off();
		this.#off = [];
		this.#engine?.leave();
		this.#engine = null;
		this.status = 'out';
		this.#self = '';
		this.#peers = {};
		this.#streams = {};
		this.#levels = {};
		this.#local = NO_STREAMS;
	}
}
