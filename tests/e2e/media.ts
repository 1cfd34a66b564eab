// Chromium with fake camera, microphone and screen (TOOLCHAIN "Media in headless
// Chromium"), and what one page receives from another person in a call, read
// from WebRTC's own statistics. Used by call.spec.ts and bench/call.ts.
import type { BrowserContext, Page } from '@playwright/test';

export const MEDIA_ARGS = [
	'--use-fake-device-for-media-stream',
	'--use-fake-ui-for-media-stream',
	'--auto-select-desktop-capture-source=Entire screen',
	'--auto-accept-this-tab-capture',
	'--enable-usermedia-screen-capturing',
	'--autoplay-policy=no-user-gesture-required'
];

/** Grants camera and microphone and records every RTCPeerConnection the page makes (for getStats). */
export async function withMedia(context: BrowserContext): Promise<void> {
	await context.grantPermissions(['camera', 'microphone']);
	await context.addInitScript(() => {
		const Original = window.RTCPeerConnection;
		const all: RTCPeerConnection[] = [];
		(window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = all;
		window.RTCPeerConnection = class extends Original {
			constructor(config?: RTCConfiguration) {
				super(config);
				all.push(this);
			}
		};
	});
}

export interface Received {
	/** The camera tile's video element, 0 when there is none. */
	readonly videoWidth: number;
	/** inbound-rtp video framesDecoded for that person's camera. */
	readonly framesDecoded: number;
	/** inbound-rtp audio totalAudioEnergy for that person's microphone. */
	readonly audioEnergy: number;
	/** The shared screen shown large, when it is theirs. */
	readonly screenWidth: number;
	readonly screenFrames: number;
}

/** What `page` receives from `name`, identified by the tracks their tile plays. */
export function received(page: Page, name: string): Promise<Received> {
	return page.evaluate(async (name) => {
		const tile = document.querySelector(`[data-testid="call-tile"][data-name="${name}"]`);
		const video = tile?.querySelector('video');
		const audio = tile?.querySelector('audio');
		const screen = document.querySelector<HTMLVideoElement>(
			`[data-testid="shared-screen"][data-name="${name}"]`
		);
		const first = (el: HTMLMediaElement | null | undefined) =>
			el?.srcObject instanceof MediaStream ? el.srcObject.getTracks()[0] : undefined;
		const camTrack = first(video);
		const micTrack = first(audio);
		const screenTrack = first(screen);
		let framesDecoded = 0;
		let audioEnergy = 0;
		let screenFrames = 0;
		for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
			for (const receiver of pc.getReceivers()) {
				const track = receiver.track;
				if (track !== camTrack && track !== micTrack && track !== screenTrack) continue;
				const stats = await receiver.getStats();
				stats.forEach((s: Record<string, unknown>) => {
					if (s.type !== 'inbound-rtp') return;
					if (track === micTrack) audioEnergy = Number(s.totalAudioEnergy ?? 0);
					else if (track === camTrack) framesDecoded = Number(s.framesDecoded ?? 0);
					else screenFrames = Number(s.framesDecoded ?? 0);
				});
			}
		}
		return {
			videoWidth: video?.videoWidth ?? 0,
			framesDecoded,
			audioEnergy,
			screenWidth: screen?.videoWidth ?? 0,
			screenFrames
		};
	}, name);
}
