// A RelayApi over plain in-memory Y.Docs, for testing the training service before
// (and apart from) the real relay: writes apply at once, in call order.

import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { roomName, type DocKey } from '../../server/protocol/docs.ts';
import type { DocHandle, RelayApi, RelayStats } from '../../server/relay/api.ts';

export class FakeRelay implements RelayApi {
	readonly docs = new Map<string, Y.Doc>();
	readonly #awareness = new Map<Y.Doc, Awareness>();
	writes = 0;

	doc(key: DocKey): Y.Doc {
		const name = roomName(key);
		let doc = this.docs.get(name);
		if (!doc) {
			doc = new Y.Doc();
			this.docs.set(name, doc);
		}
		return doc;
	}

	handleConnection(): void {
		throw new Error('FakeRelay does not take sockets');
	}
	setMemberRole(): Promise<void> {
		return Promise.resolve();
	}
	onRoleChange(): () => void {
		return () => {};
	}
	onStored(): () => void {
		return () => {};
	}
	closeWorkspace(): Promise<void> {
		return Promise.resolve();
	}
	write(key: DocKey, _author: unknown, change: (doc: Y.Doc) => void): Promise<void> {
		this.writes++;
		const doc = this.doc(key);
		doc.transact(() => change(doc));
		return Promise.resolve();
	}
	open(key: DocKey): Promise<DocHandle> {
		const doc = this.doc(key);
		let awareness = this.#awareness.get(doc);
		if (!awareness) {
			awareness = new Awareness(doc);
			this.#awareness.set(doc, awareness);
		}
		return Promise.resolve({ doc, awareness, release() {} });
	}
	presentUsers(): [] {
		return [];
	}
	stats(): RelayStats {
		return {
			connections: 0,
			documentsLoaded: this.docs.size,
			updatesReceived: 0,
			updatesStored: this.writes,
			storeFailures: 0,
			messagesSent: 0,
			busMessagesIn: 0,
			busMessagesOut: 0,
			resyncs: 0,
			updatesHeldBack: 0,
			documentsBuilt: 0
		};
	}
	close(): Promise<void> {
		for (const awareness of this.#awareness.values()) awareness.destroy();
		return Promise.resolve();
	}
}
