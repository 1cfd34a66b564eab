// An in-memory RelaySocket (STYLE.md 4): tests push frames in and read what the
// relay sent, with a settable bufferedAmount to play a slow consumer.

import type { RelaySocket } from '../../server/relay/api.ts';

type Listener = (...args: never[]) => void;

export class FakeSocket implements RelaySocket {
	readyState = 1;
	bufferedAmount = 0;
	readonly sent: Uint8Array[] = [];
	closeCode: number | null = null;
	readonly #listeners = new Map<string, Listener[]>();

	send(data: Uint8Array): void {
		this.sent.push(data);
	}

	close(code?: number): void {
		if (this.readyState !== 1) return;
		this.readyState = 3;
		this.closeCode = code ?? 1005;
		this.#emit('close', code ?? 1005, Buffer.alloc(0));
	}

	on(event: string, listener: Listener): this {
		const list = this.#listeners.get(event) ?? [];
		list.push(listener);
		this.#listeners.set(event, list);
		return this;
	}

	/** A binary frame from the client. */
	receive(bytes: Uint8Array, isBinary = true): void {
		this.#emit('message', Buffer.from(bytes), isBinary);
	}

	#emit(event: string, ...args: unknown[]): void {
		for (const l of this.#listeners.get(event) ?? []) (l as (...a: unknown[]) => void)(...args);
	}
}
