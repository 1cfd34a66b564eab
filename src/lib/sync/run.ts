// One training run's metric series (`{workspace}/run/{runId}`), loaded only while
// someone looks at it. Read-only for clients: no local copy, no saved tracking.

import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { isFinalClose } from '$shared/closeCodes.ts';
import { relayUrl } from './connection.svelte.ts';

export interface OpenRun {
	readonly doc: Y.Doc;
	destroy(): void;
}

export function openRun(workspaceId: string, runId: string): OpenRun {
	const doc = new Y.Doc();
	const provider = new WebsocketProvider(relayUrl(workspaceId), `run/${runId}`, doc, {
		shouldReconnect: (event) => !isFinalClose(event.code)
	});
	return {
		doc,
		destroy() {
			provider.destroy();
			doc.destroy();
		}
	};
}
