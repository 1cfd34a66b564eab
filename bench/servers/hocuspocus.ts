// Hocuspocus 4 (@hocuspocus/server) with its defaults, on 127.0.0.1 and port 0.
// With `store`, documents persist through @hocuspocus/extension-database on
// node:sqlite (its SQLite extension needs better-sqlite3, a native addon).

import { Server } from '@hocuspocus/server';
import { Database } from '@hocuspocus/extension-database';
import { SqliteDocs } from './sqliteDocs.ts';
import type { RunningServer, StartOptions } from './types.ts';

export async function start(options: StartOptions): Promise<RunningServer> {
	const store = options.store ? new SqliteDocs(options.dataDir) : null;
	const extensions = store
		? [
				new Database({
					fetch: ({ documentName }) => Promise.resolve(store.load(documentName)),
					store: ({ documentName, state }) => {
						store.replace(documentName, state);
						return Promise.resolve();
					}
				})
			]
		: [];
	const server = new Server({
		port: 0,
		address: '127.0.0.1',
		quiet: true,
		stopOnSignals: false,
		extensions
	});
	await server.listen();
	return {
		port: server.address.port,
		close: async () => {
			await server.destroy();
			store?.close();
		}
	};
}
