// One training run's metric series (`{workspace}/run/{runId}`), loaded only while
// someone looks at it. Read-only for clients (no saved tracking), but kept in
// IndexedDB with the other documents, so curves seen once still show offline.
// Like the other documents it follows the browser's online state instead of
// retrying while offline.

import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { IndexeddbPersistence } from 'y-indexeddb';
import { isFinalClose } from '$shared/closeCodes.ts';
import { LOCAL_PREFIX } from '../local.ts';
import { keepAlive } from './alive.ts';
import { relayUrl } from './connection.svelte.ts';

export interface OpenRun {
	readonly doc: Y.Doc;
	destroy(): void;
}

export function openRun(workspaceId: string, runId: string): OpenRun {
	const doc = new Y.Doc();
	const name = `run/${runId}`;
	const persistence = new IndexeddbPersistence(`${LOCAL_PREFIX}${workspaceId}/${name}`, doc);
	const provider = new WebsocketProvider(relayUrl(workspaceId), name, doc, {
		connect: navigator.onLine,
		// Only the server writes a run's document, and every tab has the socket and the
		// local copy: posting each update (those read from the local copy too) to the
		// other tabs of the browser was work for nobody.
		disableBc: true,
		shouldReconnect: (event) => !isFinalClose(event.code)
	});
	const stopAlive = keepAlive(provider);
	const online = (): void => provider.connect();
	const offline = (): void => provider.disconnect();
	window.addEventListener('online', online);
	window.addEventListener('offline', offline);
	return {
		doc,
		destroy() {
			window.removeEventListener('online', online);
			window.removeEventListener('offline', offline);
			stopAlive();
			provider.destroy();
			persistence.destroy().catch((err: unknown) => {
				console.error(`ensemble: closing the local copy of ${name} failed`, err);
			});
			doc.destroy();
		}
	};
}
