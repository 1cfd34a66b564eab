// One Yjs document of a workspace: the relay connection (y-websocket with the
// `saved` extension), the IndexedDB copy, and what the header needs to know
// about it (connected, synced, unsaved local changes, refused edits, final close).

import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { IndexeddbPersistence } from 'y-indexeddb';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { readAuthMessage } from 'y-protocols/auth';
import { describeClose, isFinalClose } from '$shared/closeCodes.ts';
import { ACK_PARAM, MessageType, StorageState } from '$shared/messages.ts';
import type { DocName } from '$shared/docs.ts';
import { LOCAL_PREFIX } from '../local.ts';
import { keepAlive } from './alive.ts';
import { PendingChanges } from './pending.ts';

/** Transaction origin of replayed unsaved changes (already counted as pending). */
const JOURNAL = Symbol('ensemble-journal');

export interface ClosedInfo {
	readonly code: number;
	readonly message: string;
}

export function relayUrl(workspaceId: string): string {
	const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
	return `${scheme}://${location.host}/ws/${encodeURIComponent(workspaceId)}`;
}

export class DocConnection {
	readonly name: DocName;
	readonly doc = new Y.Doc();
	readonly provider: WebsocketProvider;
	readonly persistence: IndexeddbPersistence;
	private readonly pendingChanges: PendingChanges;
	private readonly stopAlive: () => void;

	connected = $state(false);
	/** Synced with the server since the last (re)connect. */
	synced = $state(false);
	/** Synced with the server at least once in this page's life. */
	everSynced = $state(false);
	/** The IndexedDB copy is loaded (the document can be shown offline). */
	loaded = $state(false);
	pending = $state(0);
	closed = $state<ClosedInfo | null>(null);
	/** The server refused our writes (permission denied), in its words. */
	refused = $state<string | null>(null);
	/** Writes are refused: our role lacks this document's write permission. */
	readOnly = $state(false);
	/** The server says it cannot store this document's changes right now (storage down or stalled). */
	notStoring = $state(false);
	/** Why the last connection dropped, while reconnecting (retryable closes). */
	dropped = $state<string | null>(null);

	constructor(workspaceId: string, name: DocName, options: { connect: boolean }) {
		this.name = name;
		this.persistence = new IndexeddbPersistence(`${LOCAL_PREFIX}${workspaceId}/${name}`, this.doc);
		this.persistence.on('synced', () => {
			this.replayJournal();
			this.loaded = true;
		});
		this.pendingChanges = new PendingChanges(`pending:${workspaceId}/${name}`);
		this.pending = this.pendingChanges.count;
		this.provider = new WebsocketProvider(relayUrl(workspaceId), name, this.doc, {
			connect: options.connect,
			params: { [ACK_PARAM]: '1' },
			shouldReconnect: (event) => !isFinalClose(event.code)
		});
		this.installHandlers();
		this.stopAlive = keepAlive(this.provider);
		this.doc.on('update', this.onUpdate);
	}

	private installHandlers(): void {
		const handlers = this.provider.messageHandlers;
		handlers[MessageType.saved] = (_encoder, decoder) => {
			const saved = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
			this.pendingChanges.ack(saved);
			this.pending = this.pendingChanges.count;
			if (this.pending === 0) this.refused = null;
		};
		handlers[MessageType.storage] = (_encoder, decoder) => {
			this.notStoring = decoding.readVarUint(decoder) === StorageState.notStoring;
		};
		handlers[MessageType.auth] = (_encoder: encoding.Encoder, decoder) => {
			readAuthMessage(decoder, this.doc, (_doc, reason) => this.onPermissionDenied(reason));
		};
		this.provider.on('status', ({ status }) => {
			this.connected = status === 'connected';
			if (status !== 'connected') {
				this.synced = false;
				// A new connection is told again if storage is still out.
				this.notStoring = false;
			}
			if (status === 'disconnected') this.forgetRemoteClocks();
		});
		this.provider.on('sync', (synced) => {
			this.synced = synced;
			if (synced) {
				this.everSynced = true;
				this.dropped = null;
			}
		});
		this.provider.on('connection-close', (event) => {
			// null: we closed it ourselves (offline, or y-websocket's silence timeout).
			if (event && !isFinalClose(event.code)) this.dropped = describeClose(event.code);
		});
		this.provider.on('closed', ({ code }) => {
			this.closed = { code, message: describeClose(code) };
		});
	}

	/**
	 * y-websocket drops everyone's presence on disconnect and y-protocols bumps their
	 * clocks, so the same states re-sent after a reconnect would be ignored until
	 * each person renews theirs (15 s). Forgetting the clocks lets them in at once.
	 */
	private forgetRemoteClocks(): void {
		const awareness = this.provider.awareness;
		for (const client of [...awareness.meta.keys()]) {
			if (client !== awareness.clientID && !awareness.states.has(client)) {
				awareness.meta.delete(client);
			}
		}
	}

	/** Re-applies unsaved changes that the IndexedDB copy may have missed. */
	private replayJournal(): void {
		const updates = this.pendingChanges.updates();
		if (updates.length === 0) return;
		this.doc.transact(() => {
			for (const update of updates) Y.applyUpdate(this.doc, update, JOURNAL);
		}, JOURNAL);
	}

	private onPermissionDenied(reason: string): void {
		this.readOnly = true;
		// A viewer's empty sync step is refused too; only unsaved edits are news.
		if (this.pendingChanges.count > 0) {
			this.refused = `The server refused ${this.pendingChanges.count} of your changes: ${reason || 'permission denied'}.`;
		}
	}

	private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
		// Remote changes (the relay) and the local copy being loaded are not ours to save.
		if (origin === this.provider || origin === this.persistence || origin === JOURNAL) return;
		this.pendingChanges.record(
			this.doc.clientID,
			Y.getState(this.doc.store, this.doc.clientID),
			update
		);
		this.pending = this.pendingChanges.count;
	};

	goOffline(): void {
		this.provider.disconnect();
		this.connected = false;
		this.synced = false;
	}

	goOnline(): void {
		if (this.closed) return;
		this.provider.connect();
	}

	/** Drops local changes the server refused: clears the local copy (reload to refetch). */
	async discardLocal(): Promise<void> {
		this.pendingChanges.clear();
		this.pending = 0;
		this.refused = null;
		await this.persistence.clearData();
	}

	destroy(): void {
		this.doc.off('update', this.onUpdate);
		this.stopAlive();
		this.provider.destroy();
		this.persistence.destroy().catch((err: unknown) => {
			console.error(`ensemble: closing the local copy of ${this.name} failed`, err);
		});
		this.doc.destroy();
	}
}
