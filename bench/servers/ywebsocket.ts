// The stock y-websocket server (@y/websocket-server 0.1.1, the newest release
// that installs with Yjs 13), wired exactly as its own bin/server.js does, on
// 127.0.0.1 and port 0. With `store`, documents persist to SQLite through its
// `setPersistence` hook (its built-in persistence is LevelDB, a native addon).

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import * as Y from 'yjs';
import { setPersistence, setupWSConnection } from '@y/websocket-server/utils';
import { SqliteDocs } from './sqliteDocs.ts';
import type { RunningServer, StartOptions } from './types.ts';

export async function start(options: StartOptions): Promise<RunningServer> {
	const store = options.store ? new SqliteDocs(options.dataDir) : null;
	if (store) {
		setPersistence({
			provider: store,
			bindState: (name: string, doc: Y.Doc) => {
				const stored = store.load(name);
				if (stored) Y.applyUpdate(doc, stored);
				doc.on('update', (update: Uint8Array) => store.append(name, update));
			},
			writeState: () => Promise.resolve()
		});
	}
	const wss = new WebSocketServer({ noServer: true });
	wss.on('connection', setupWSConnection);
	const http = createServer((_req, res) => {
		res.writeHead(200, { 'Content-Type': 'text/plain' });
		res.end('okay');
	});
	http.on('upgrade', (request, socket, head) => {
		wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
	});
	await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
	return {
		port: (http.address() as AddressInfo).port,
		close: async () => {
			for (const client of wss.clients) client.terminate();
			await new Promise<void>((resolve) => wss.close(() => resolve()));
			await new Promise<void>((resolve) => http.close(() => resolve()));
			store?.close();
		}
	};
}
