// A workspace open in this tab: its three documents (params, code, live), the
// browser's online state, and the one status line the header shows.

import type { DocName } from '$shared/docs.ts';
import { DocConnection } from './connection.svelte.ts';

export type SyncState =
	'closed' | 'offline' | 'not-saving' | 'connecting' | 'refused' | 'saving' | 'saved';

const DOCS = ['params', 'code', 'live'] as const satisfies readonly DocName[];

let persistAsked = false;

/** Asks once per page for durable storage, so the browser does not evict offline copies. */
function askPersistentStorage(): void {
	if (persistAsked || !navigator.storage?.persist) return;
	persistAsked = true;
	navigator.storage.persist().catch((err: unknown) => {
		console.warn('ensemble: persistent storage request failed', err);
	});
}

export class WorkspaceConnection {
	readonly id: string;
	readonly params: DocConnection;
	readonly code: DocConnection;
	readonly live: DocConnection;
	online = $state(typeof navigator === 'undefined' ? true : navigator.onLine);

	constructor(id: string) {
		this.id = id;
		const connect = this.online;
		const [params, code, live] = DOCS.map((d) => new DocConnection(id, d, { connect }));
		this.params = params!;
		this.code = code!;
		this.live = live!;
		window.addEventListener('online', this.onOnline);
		window.addEventListener('offline', this.onOffline);
		askPersistentStorage();
	}

	get docs(): DocConnection[] {
		return [this.params, this.code, this.live];
	}

	/** Unsaved local changes over all documents. */
	get pending(): number {
		return this.docs.reduce((n, d) => n + d.pending, 0);
	}

	get closed(): DocConnection | undefined {
		return this.docs.find((d) => d.closed);
	}

	/** Why we are reconnecting, when the server closed the connection. */
	get dropped(): string | null {
		return this.docs.find((d) => d.dropped)?.dropped ?? null;
	}

	get refused(): DocConnection | undefined {
		return this.docs.find((d) => d.refused);
	}

	/** Everything the local copies hold is loaded: the workspace can be shown and edited. */
	get loaded(): boolean {
		return this.docs.every((d) => d.loaded);
	}

	get state(): SyncState {
		if (this.closed) return 'closed';
		if (!this.online) return 'offline';
		// Before 'connecting': while storage is out a new connection's sync waits for it.
		if (this.docs.some((d) => d.connected && d.notStoring)) return 'not-saving';
		if (!this.docs.every((d) => d.connected && d.synced)) return 'connecting';
		if (this.refused) return 'refused';
		return this.pending > 0 ? 'saving' : 'saved';
	}

	// setOffline in Chromium keeps sockets open but fires these events: trust them.
	private readonly onOffline = (): void => {
		this.online = false;
		for (const d of this.docs) d.goOffline();
	};

	private readonly onOnline = (): void => {
		this.online = true;
		for (const d of this.docs) d.goOnline();
	};

	destroy(): void {
		window.removeEventListener('online', this.onOnline);
		window.removeEventListener('offline', this.onOffline);
		for (const d of this.docs) d.destroy();
	}
}
