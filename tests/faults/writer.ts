// A person editing through faults: a Y.Doc with an ackClient (tests/helpers)
// that reconnects, to whichever process the scenario routes it to, whenever its
// socket closes, as the app's provider does. It keeps the highest clock the
// server said is saved over all its connections.

import * as Y from 'yjs';
import WebSocket from 'ws';
import { ackClient, type AckClient } from '../helpers/ackClient.ts';
import { docKind, scratchList, scratchText, type WritableDoc } from '../helpers/schemaRoots.ts';

/** A reconnect after a close waits this long (the app backs off similarly). */
const RECONNECT_MS = 100;

export class Writer {
	readonly doc = new Y.Doc();
	readonly name: string;
	/** Highest clock of this writer's own client the server acknowledged as saved. */
	acked = 0;
	reconnects = 0;
	#client: AckClient | null = null;
	#synced = false;
	#stopped = false;
	#timer: ReturnType<typeof setTimeout> | null = null;
	#edits = 0;
	readonly #url: () => string;
	/** Which document the URL is for: the shared list and text are its schema roots. */
	readonly #kind: WritableDoc;

	/** `url` picks the process for each (re)connection. */
	constructor(name: string, url: () => string) {
		this.name = name;
		this.#url = url;
		this.#kind = docKind(url());
		this.#connect();
	}

	get ready(): boolean {
		return this.#synced && this.#client?.ws.readyState === WebSocket.OPEN;
	}

	/** This writer's own clock: everything it wrote. */
	get clock(): number {
		return Y.getState(this.doc.store, this.doc.clientID);
	}

	/** One random edit: an entry in a list or text typed into a shared note. */
	edit(random: () => number): void {
		this.#edits++;
		if (random() < 0.5) {
			scratchList<string>(this.doc, this.#kind).push([`${this.name}-${this.#edits}`]);
		} else {
			const text = scratchText(this.doc, this.#kind);
			text.insert(Math.floor(random() * (text.length + 1)), `${this.name}${this.#edits} `);
		}
	}

	/** Drops the connection now (a network blip); it reconnects as after any close. */
	drop(): void {
		this.#client?.ws.terminate();
	}

	stop(): void {
		this.#stopped = true;
		if (this.#timer) clearTimeout(this.#timer);
		this.#client?.close();
		this.#client = null;
	}

	#connect(): void {
		if (this.#stopped) return;
		this.#synced = false;
		const client = ackClient(this.#url(), this.doc);
		this.#client = client;
		client.onSaved((clock) => (this.acked = Math.max(this.acked, clock)));
		client.synced.then(
			() => {
				if (this.#client === client) this.#synced = true;
			},
			// A connection to a stopped process never syncs; its close brings a retry.
			() => client.ws.terminate()
		);
		client.ws.once('close', () => {
			if (this.#client !== client || this.#stopped) return;
			client.close();
			this.#client = null;
			this.#synced = false;
			this.reconnects++;
			this.#timer = setTimeout(() => this.#connect(), RECONNECT_MS);
		});
	}
}
