// The call signalling protocol at `/ws/{workspace}/call` (CALL1…CALL9 in
// server/SPEC.md), shared by server and app: JSON text frames. The server only
// routes them: media goes browser to browser (WebRTC), never through it.

import { checkValue } from './values.ts';
import type { Role } from './roles.ts';

/** The socket path's last segment (a document is never called that). */
export const CALL_PATH = 'call';

/** Largest signalling message (an SDP with every candidate is a few KB). Larger closes with 4413. */
export const MAX_CALL_MESSAGE_BYTES = 64 * 1024;
/** Token bucket per socket: trickled ICE candidates come in bursts. Empty closes with 4429. */
export const CALL_MESSAGES_PER_SECOND = 50;
export const CALL_MESSAGE_BURST = 200;
/** People in one call; the mesh's measured comfortable size is CALL_MESH_SIZE. */
export const MAX_CALL_PEERS = 8;
const CALL_MESH_SIZE = 6;
void CALL_MESH_SIZE;

/** What a person shows of themselves in a call. */
export interface CallState {
	readonly muted: boolean;
	readonly camera: boolean;
	readonly sharing: boolean;
}

/** One person in the call from two tabs: muted only if both are, camera or sharing if either is. */
export function joinCallStates(a: CallState, b: CallState): CallState {
	return {
		muted: a.muted && b.muted,
		camera: a.camera || b.camera,
		sharing: a.sharing || b.sharing
	};
}

export interface CallUser {
	readonly id: string;
	readonly name: string;
	readonly color: string;
	readonly role: Role;
}

export interface CallPeer {
	/** One socket in the call (a person with two tabs is two peers). Chosen by the server. */
	readonly peer: string;
	readonly user: CallUser;
	readonly state: CallState;
}

/** An ICE server as RTCPeerConnection takes it (ICE_SERVERS). */
export interface IceServer {
	readonly urls: string | string[];
	readonly username?: string;
	readonly credential?: string;
}

/** An SDP description or an ICE candidate (null: end of candidates); the server does not read it. */
export interface SignalData {
	readonly description?: { readonly type: string; readonly sdp?: string };
	readonly candidate?: Record<string, unknown> | null;
}

export type ClientCallMessage =
	| { readonly type: 'signal'; readonly to: string; readonly data: SignalData }
	| { readonly type: 'state'; readonly state: CallState };

export type ServerCallMessage =
	| {
			readonly type: 'welcome';
			readonly peer: string;
			readonly peers: CallPeer[];
			readonly iceServers: IceServer[];
	  }
	| ({ readonly type: 'joined' } & CallPeer)
	| { readonly type: 'left'; readonly peer: string }
	| { readonly type: 'state'; readonly peer: string; readonly state: CallState }
	| {
			readonly type: 'signal';
			readonly from: string;
			readonly user: CallUser;
			readonly data: SignalData;
	  }
	/** Not fatal: e.g. the addressee left meanwhile. */
	| { readonly type: 'error'; readonly code: 'unknown_peer'; readonly message: string };

const PEER_ID = /^[A-Za-z0-9_-]{8,64}$/;

export function isPeerId(value: unknown): value is string {
	return typeof value === 'string' && PEER_ID.test(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseCallState(value: unknown): CallState | null {
	if (!isRecord(value)) return null;
	const { muted, camera, sharing } = value;
	if (typeof muted !== 'boolean' || typeof camera !== 'boolean' || typeof sharing !== 'boolean')
		return null;
	return { muted, camera, sharing };
}

function parseSignalData(value: unknown): SignalData | null {
	if (!isRecord(value)) return null;
	const { description, candidate } = value;
	const out: { description?: SignalData['description']; candidate?: SignalData['candidate'] } = {};
	if (description !== undefined) {
		if (!isRecord(description) || typeof description.type !== 'string') return null;
		if (description.sdp !== undefined && typeof description.sdp !== 'string') return null;
		out.description = { type: description.type, sdp: description.sdp };
	}
	if (candidate !== undefined) {
		if (candidate !== null && !isRecord(candidate)) return null;
		out.candidate = candidate;
	}
	if (out.description === undefined && out.candidate === undefined) return null;
	return out;
}

/** A client's message, or what is wrong with it (the socket is closed with 1007 and that reason). */
export function parseClientCallMessage(
	text: string
): { ok: true; message: ClientCallMessage } | { ok: false; problem: string } {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		return { ok: false, problem: 'not JSON' };
	}
	if (checkValue(value)) return { ok: false, problem: 'nested too deeply' };
	if (!isRecord(value)) return { ok: false, problem: 'not an object' };
	if (value.type === 'signal') {
		if (!isPeerId(value.to)) return { ok: false, problem: 'signal without a valid "to"' };
		const data = parseSignalData(value.data);
		if (!data) return { ok: false, problem: 'signal without a description or candidate' };
		return { ok: true, message: { type: 'signal', to: value.to, data } };
	}
	if (value.type === 'state') {
		const state = parseCallState(value.state);
		if (!state) return { ok: false, problem: 'state needs muted, camera and sharing (booleans)' };
		return { ok: true, message: { type: 'state', state } };
	}
	return { ok: false, problem: `unknown message type ${JSON.stringify(value.type)}` };
}

/** ICE_SERVERS: a JSON array of {urls, username?, credential?}; throws with what is wrong. */
export function parseIceServers(text: string): IceServer[] {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		throw new Error('is not JSON (expected an array such as [{"urls":"stun:stun.example.com"}])');
	}
	if (!Array.isArray(value))
		throw new Error('must be a JSON array of {urls, username, credential}');
	return value.map((entry: unknown, i): IceServer => {
		if (!isRecord(entry)) throw new Error(`entry ${i} is not an object`);
		const { urls, username, credential } = entry;
		const list = typeof urls === 'string' ? [urls] : urls;
		if (!Array.isArray(list) || list.length === 0 || !list.every((u) => typeof u === 'string'))
			throw new Error(`entry ${i}: "urls" must be a string or a non-empty array of strings`);
		for (const url of list) {
			if (!/^(stun|stuns|turn|turns):[^\s]+$/.test(url))
				throw new Error(
					`entry ${i}: ${JSON.stringify(url)} is not a stun:, stuns:, turn: or turns: URL`
				);
			if (
				url.startsWith('turn') &&
				(typeof username !== 'string' || typeof credential !== 'string')
			)
				throw new Error(`entry ${i}: a TURN server needs "username" and "credential" (strings)`);
		}
		if (username !== undefined && typeof username !== 'string')
			throw new Error(`entry ${i}: "username" must be a string`);
		if (credential !== undefined && typeof credential !== 'string')
			throw new Error(`entry ${i}: "credential" must be a string`);
		return {
			urls: urls as string | string[],
			...(username !== undefined ? { username } : {}),
			...(credential !== undefined ? { credential } : {})
		};
	});
}
