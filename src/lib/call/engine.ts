// The call layer's interface (issue 14): what the app needs of a call, so that
// the browser-to-browser mesh (mesh.ts) can be replaced by an SFU such as
// LiveKit for larger groups without touching the UI (session.svelte.ts).

import type { CallState, CallUser } from '$shared/call.ts';

export type { CallState, CallUser };

/** Someone else in the call (one socket: a person with two tabs is two peers). */
export interface RemotePeer {
	readonly peer: string;
	readonly user: CallUser;
	readonly state: CallState;
}

/** The media a peer sends, as streams ready for <audio>/<video> elements. */
export interface PeerStreams {
	readonly audio: MediaStream | null;
	readonly camera: MediaStream | null;
	readonly screen: MediaStream | null;
}

/** What the local devices gave us; `problem` says in words what is missing and why. */
export interface LocalMedia {
	readonly microphone: boolean;
	readonly camera: boolean;
	readonly problem: string | null;
}

export interface CallEvents {
	/** We are in: our own peer id and what our devices gave. */
	joined(self: string, media: LocalMedia): void;
	/** Our own state changed (also when the browser's own "Stop sharing" ended a share). */
	self(state: CallState): void;
	/** A peer joined, or changed its state (muted, camera, sharing). */
	peer(peer: RemotePeer): void;
	/** A peer left (left, reloaded, lost its network). */
	left(peer: string): void;
	/** A peer's media changed (tracks arrived or a screen share started). */
	streams(peer: string, streams: PeerStreams): void;
	/** Audio level 0…1 of a peer's microphone, or of ours (peer = our own id). */
	level(peer: string, level: number): void;
	/** The call ended on its own (closed by the server, or the network is gone); message in words. */
	ended(message: string): void;
}

export interface CallEngine {
	/** Asks for camera and microphone (falls back to listening only) and joins the workspace's call. */
	join(): Promise<void>;
	leave(): void;
	setMuted(muted: boolean): void;
	setCamera(on: boolean): void;
	/** Starts sharing the screen; resolves null, or what went wrong in words. */
	startShare(): Promise<string | null>;
	stopShare(): void;
	/** Our own camera and screen, for our own tile. */
	readonly local: PeerStreams;
	on<E extends keyof CallEvents>(event: E, listener: CallEvents[E]): () => void;
}
