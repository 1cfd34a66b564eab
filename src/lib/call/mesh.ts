// The call as a mesh: one RTCPeerConnection to every other peer, signalled
// through the server at /ws/{workspace}/call (CALL1…CALL9 in server/SPEC.md).
//
// Every connection has three transceivers in a fixed order: microphone, camera,
// screen. The newcomer creates them and makes the first offer; the peer already
// in the call answers with the ones its setRemoteDescription created (same
// order), so tracks are only ever swapped with replaceTrack and renegotiation
// is needed only for ICE restarts. Collisions are settled by WebRTC's "perfect
// negotiation": the peer with the smaller id is polite and yields.

import { describeClose } from '$shared/closeCodes.ts';
import type { CallState, IceServer, ServerCallMessage, SignalData } from '$shared/call.ts';
import type { CallEngine, CallEvents, LocalMedia, PeerStreams, RemotePeer } from './engine.ts';
import { LevelMeter } from './levels.ts';

const AUDIO = 0;
const CAMERA = 1;
const SCREEN = 2;

interface Link {
	readonly pc: RTCPeerConnection;
	readonly polite: boolean;
	makingOffer: boolean;
	ignoreOffer: boolean;
	info: RemotePeer;
	streams: PeerStreams;
}

/** Camera and microphone, or as much of them as we can get, with a message for what is missing. */
export async function openDevices(): Promise<{ stream: MediaStream | null; media: LocalMedia }> {
	const md = navigator.mediaDevices as MediaDevices | undefined;
	if (!md?.getUserMedia)
		return {
			stream: null,
			media: {
				microphone: false,
				camera: false,
				problem:
					'This browser gives no access to a camera or microphone here; you can listen and watch.'
			}
		};
	let firstError: unknown = null;
	for (const constraints of [
		{ audio: true, video: true },
		{ audio: true, video: false },
		{ audio: false, video: true }
	]) {
		try {
			const stream = await md.getUserMedia(constraints);
			const microphone = stream.getAudioTracks().length > 0;
			const camera = stream.getVideoTracks().length > 0;
			const missing = !microphone ? 'microphone' : !camera ? 'camera' : null;
			return {
				stream,
				media: {
					microphone,
					camera,
					problem: missing ? `No ${missing} could be used (${reason(firstError)}).` : null
				}
			};
		} catch (err) {
			firstError ??= err;
		}
	}
	return {
		stream: null,
		media: {
			microphone: false,
			camera: false,
			problem: `No camera or microphone: ${reason(firstError)}. You are in the call to listen and watch.`
		}
	};
}

function reason(err: unknown): string {
	const name = err instanceof DOMException ? err.name : '';
	if (name === 'NotAllowedError' || name === 'SecurityError')
		return "permission was refused; allow it in the browser's site settings and join again";
	if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'none was found';
	if (name === 'NotReadableError') return 'the device is in use by another application';
	return err instanceof Error ? err.message : 'the device could not be opened';
}

export class MeshCall implements CallEngine {
	readonly #url: string;
	readonly #listeners = new Map<keyof CallEvents, Set<unknown>>();
	readonly #links = new Map<string, Link>();
	readonly #meter = new LevelMeter((id, level) => this.#emit('level', id, level));
	#socket: WebSocket | null = null;
	#self = '';
	#iceServers: IceServer[] = [];
	#mic: MediaStreamTrack | null = null;
	#cam: MediaStreamTrack | null = null;
	#screen: MediaStreamTrack | null = null;
	#state: CallState = { muted: false, camera: false, sharing: false };
	#media: LocalMedia = { microphone: false, camera: false, problem: null };
	#left = false;
	readonly #onOnline = () => {
		// A network change: every connection restarts ICE (new candidates, same call).
		for (const link of this.#links.values()) link.pc.restartIce();
	};

	/** `url`: the call socket, e.g. wss://host/ws/{workspace}/call. */
	constructor(url: string) {
		this.#url = url;
	}

	#localStreams: PeerStreams = { audio: null, camera: null, screen: null };

	/** The same streams until a track changes (so our own tile does not restart its video). */
	get local(): PeerStreams {
		const l = this.#localStreams;
		if (
			l.camera?.getTracks()[0] !== (this.#cam ?? undefined) ||
			l.screen?.getTracks()[0] !== (this.#screen ?? undefined)
		)
			this.#localStreams = {
				audio: null,
				camera: this.#cam ? new MediaStream([this.#cam]) : null,
				screen: this.#screen ? new MediaStream([this.#screen]) : null
			};
		return this.#localStreams;
	}

	on<E extends keyof CallEvents>(event: E, listener: CallEvents[E]): () => void {
		let set = this.#listeners.get(event);
		if (!set) this.#listeners.set(event, (set = new Set()));
		set.add(listener);
		return () => set.delete(listener);
	}

	#emit<E extends keyof CallEvents>(event: E, ...args: Parameters<CallEvents[E]>): void {
		for (const l of this.#listeners.get(event) ?? [])
			(l as (...a: Parameters<CallEvents[E]>) => void)(...args);
	}

	async join(): Promise<void> {
		const { stream, media } = await openDevices();
		if (this.#left) {
			for (const t of stream?.getTracks() ?? []) t.stop();
			return;
		}
		this.#media = media;
		this.#mic = stream?.getAudioTracks()[0] ?? null;
		this.#cam = stream?.getVideoTracks()[0] ?? null;
		this.#state = { muted: !this.#mic, camera: !!this.#cam, sharing: false };
		await new Promise<void>((resolve, reject) => {
			const socket = new WebSocket(this.#url);
			this.#socket = socket;
			socket.onmessage = (e) => {
				let message: ServerCallMessage;
				try {
					message = JSON.parse(String(e.data)) as ServerCallMessage;
				} catch {
					return;
				}
				if (message.type === 'welcome') resolve();
				void this.#onMessage(message);
			};
			socket.onclose = (e) => {
				const message =
					e.code === 1000 || e.code === 1001 || e.code === 1006
						? 'The call connection was lost. Join again when you are back online.'
						: describeClose(e.code);
				reject(new Error(message));
				if (!this.#left) {
					this.leave();
					this.#emit('ended', message);
				}
			};
		});
		window.addEventListener('online', this.#onOnline);
	}

	leave(): void {
		this.#left = true;
		window.removeEventListener('online', this.#onOnline);
		const socket = this.#socket;
		this.#socket = null;
		if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, 'left the call');
		for (const peer of [...this.#links.keys()]) this.#drop(peer);
		for (const t of [this.#mic, this.#cam, this.#screen]) t?.stop();
		this.#mic = this.#cam = this.#screen = null;
		this.#meter.close();
	}

	setMuted(muted: boolean): void {
		if (!this.#mic) return;
		this.#mic.enabled = !muted;
		this.#setState({ muted });
	}

	setCamera(on: boolean): void {
		if (!this.#cam) return;
		this.#cam.enabled = on;
		this.#setState({ camera: on });
	}

	async startShare(): Promise<string | null> {
		let stream: MediaStream;
		try {
			stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
		} catch (err) {
			return `Screen sharing did not start: ${reason(err)}.`;
		}
		const track = stream.getVideoTracks()[0];
		if (!track || this.#left) {
			for (const t of stream.getTracks()) t.stop();
			return 'Screen sharing did not start: no screen was chosen.';
		}
		this.#screen?.stop();
		this.#screen = track;
		// The browser's own "Stop sharing" button ends the track.
		track.addEventListener('ended', () => {
			if (this.#screen === track) this.stopShare();
		});
		for (const link of this.#links.values()) void sender(link.pc, SCREEN)?.replaceTrack(track);
		this.#setState({ sharing: true });
		return null;
	}

	stopShare(): void {
		const track = this.#screen;
		this.#screen = null;
		track?.stop();
		for (const link of this.#links.values()) void sender(link.pc, SCREEN)?.replaceTrack(null);
		this.#setState({ sharing: false });
	}

	#setState(change: Partial<CallState>): void {
		this.#state = { ...this.#state, ...change };
		this.#send({ type: 'state', state: this.#state });
		this.#emit('self', this.#state);
	}

	#send(message: unknown): void {
		if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
	}

	async #onMessage(m: ServerCallMessage): Promise<void> {
		switch (m.type) {
			case 'welcome':
				this.#self = m.peer;
				this.#iceServers = m.iceServers;
				this.#send({ type: 'state', state: this.#state });
				this.#emit('joined', m.peer, this.#media);
				this.#emit('self', this.#state);
				if (this.#mic) this.#meter.watch(m.peer, new MediaStream([this.#mic]));
				// We are the newcomer: we open a connection to everyone already here.
				for (const p of m.peers) this.#connect(p, true);
				return;
			case 'joined':
				// They will call us; we answer.
				this.#connect(m, false);
				return;
			case 'state': {
				const link = this.#links.get(m.peer);
				if (!link) return;
				link.info = { ...link.info, state: m.state };
				this.#emit('peer', link.info);
				return;
			}
			case 'left':
				this.#drop(m.peer);
				return;
			case 'signal':
				return this.#onSignal(m.from, m.data);
			case 'error':
				console.warn('ensemble: call signalling', m.message);
				return;
		}
	}

	#connect(info: RemotePeer, offer: boolean): void {
		if (this.#links.has(info.peer) || info.peer === this.#self) return;
		const pc = new RTCPeerConnection({ iceServers: this.#iceServers });
		const link: Link = {
			pc,
			polite: this.#self < info.peer,
			makingOffer: false,
			ignoreOffer: false,
			info,
			streams: { audio: null, camera: null, screen: null }
		};
		this.#links.set(info.peer, link);
		this.#emit('peer', info);
		const to = info.peer;
		pc.onicecandidate = ({ candidate }) =>
			this.#send({ type: 'signal', to, data: { candidate: candidate?.toJSON() ?? null } });
		pc.onnegotiationneeded = async () => {
			try {
				link.makingOffer = true;
				await pc.setLocalDescription();
				this.#sendDescription(to, pc.localDescription);
			} catch (err) {
				console.warn('ensemble: call offer failed', err);
			} finally {
				link.makingOffer = false;
			}
		};
		pc.oniceconnectionstatechange = () => {
			if (pc.iceConnectionState === 'failed') pc.restartIce();
		};
		pc.ontrack = () => this.#collectStreams(link);
		if (offer) {
			pc.addTransceiver(this.#mic ?? 'audio', { direction: this.#mic ? 'sendrecv' : 'recvonly' });
			pc.addTransceiver(this.#cam ?? 'video', { direction: this.#cam ? 'sendrecv' : 'recvonly' });
			pc.addTransceiver(this.#screen ?? 'video', { direction: 'sendrecv' });
			this.#collectStreams(link);
		}
	}

	#sendDescription(to: string, d: RTCSessionDescription | null): void {
		if (d) this.#send({ type: 'signal', to, data: { description: { type: d.type, sdp: d.sdp } } });
	}

	async #onSignal(from: string, data: SignalData): Promise<void> {
		const link = this.#links.get(from);
		if (!link) return;
		const { pc } = link;
		try {
			if (data.description) {
				const description = data.description as RTCSessionDescriptionInit;
				const collision =
					description.type === 'offer' && (link.makingOffer || pc.signalingState !== 'stable');
				link.ignoreOffer = !link.polite && collision;
				if (link.ignoreOffer) return;
				await pc.setRemoteDescription(description);
				if (description.type === 'offer') {
					this.#answerWithOurTracks(pc);
					this.#collectStreams(link);
					await pc.setLocalDescription();
					this.#sendDescription(from, pc.localDescription);
				}
			} else if (data.candidate !== undefined) {
				try {
					await pc.addIceCandidate(
						(data.candidate ?? undefined) as RTCIceCandidateInit | undefined
					);
				} catch (err) {
					if (!link.ignoreOffer) throw err;
				}
			}
		} catch (err) {
			console.warn('ensemble: call signal failed', err);
		}
	}

	/** The transceivers the offer created get our tracks (first offer only; later ones keep them). */
	#answerWithOurTracks(pc: RTCPeerConnection): void {
		const ts = pc.getTransceivers();
		const tracks = [this.#mic, this.#cam, this.#screen];
		for (const i of [AUDIO, CAMERA, SCREEN]) {
			const t = ts[i];
			if (!t || t.currentDirection !== null) continue;
			const track = tracks[i];
			t.direction = track || i === SCREEN ? 'sendrecv' : 'recvonly';
			if (track) void t.sender.replaceTrack(track);
		}
	}

	#collectStreams(link: Link): void {
		const ts = link.pc.getTransceivers();
		const stream = (i: number) => {
			const track = ts[i]?.receiver.track;
			return track ? new MediaStream([track]) : null;
		};
		if (link.streams.audio || ts.length < 3) return;
		link.streams = { audio: stream(AUDIO), camera: stream(CAMERA), screen: stream(SCREEN) };
		if (link.streams.audio) this.#meter.watch(link.info.peer, link.streams.audio);
		this.#emit('streams', link.info.peer, link.streams);
	}

	#drop(peer: string): void {
		const link = this.#links.get(peer);
		if (!link) return;
		this.#links.delete(peer);
		link.pc.close();
		this.#meter.unwatch(peer);
		this.#emit('left', peer);
	}
}

function sender(pc: RTCPeerConnection, index: number): RTCRtpSender | undefined {
	return pc.getTransceivers()[index]?.sender;
}
