// Signs of life on a relay connection (server/SPEC.md PRES7): a dropped network
// sends no close frame, so the relay closes a connection that promised to speak
// and went quiet, and the others see this person go within seconds instead of
// never. Hidden tabs promise more: browsers throttle their timers.

import * as encoding from 'lib0/encoding';
import type { WebsocketProvider } from 'y-websocket';
import { MessageType } from '$shared/messages.ts';

const EVERY_MS = 1500;
const VISIBLE_WITHIN_MS = 5000;
const HIDDEN_WITHIN_MS = 120_000;

function aliveFrame(withinMs: number): Uint8Array<ArrayBuffer> {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, MessageType.alive);
	encoding.writeVarUint(e, withinMs);
	// A fresh array over a plain ArrayBuffer (what WebSocket.send's types ask for).
	return new Uint8Array(encoding.toUint8Array(e));
}

/**
 * When the relay dropped our last connection it removed our presence and bumped
 * its clock by one (y-protocols), so our state re-sent at the same clock would
 * be ignored, here and by everyone, until two renewals later (30 s). y-websocket
 * sends it right after the 'connected' status: make its clock newer first.
 */
function newerClock(provider: WebsocketProvider): void {
	const awareness = provider.awareness;
	const meta = awareness.meta.get(awareness.clientID);
	if (meta) meta.clock += 2;
}

/** Sends `alive` every 1.5 s (and on visibility changes) while connected; returns the stop. */
export function keepAlive(provider: WebsocketProvider): () => void {
	const send = (): void => {
		const ws = provider.ws;
		if (!provider.wsconnected || !ws || ws.readyState !== WebSocket.OPEN) return;
		ws.send(aliveFrame(document.hidden ? HIDDEN_WITHIN_MS : VISIBLE_WITHIN_MS));
	};
	const onStatus = ({ status }: { status: string }): void => {
		if (status !== 'connected') return;
		newerClock(provider);
		send();
	};
	const timer = setInterval(send, EVERY_MS);
	provider.on('status', onStatus);
	document.addEventListener('visibilitychange', send);
	return () => {
		clearInterval(timer);
		provider.off('status', onStatus);
		document.removeEventListener('visibilitychange', send);
	};
}
