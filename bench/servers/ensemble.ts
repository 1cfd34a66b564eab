// Ensemble as users run it: server/main.ts's startServer with SQLite storage in
// the data directory (or PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set in
// the environment), on 127.0.0.1 and port 0.

import type { RunningServer, StartOptions } from './types.ts';

interface EnsembleServer {
	readonly port: number;
	close(): Promise<void>;
}

type StartServer = (overrides: Record<string, unknown>) => Promise<EnsembleServer>;

export async function start(options: StartOptions): Promise<RunningServer> {
	// Imported by path at run time: the bench builds before the server exists.
	const main = '../../server/main.ts';
	const { startServer } = (await import(main)) as { startServer: StartServer };
	const server = await startServer({ port: 0, host: '127.0.0.1', dataDir: options.dataDir });
	return { port: server.port, close: () => server.close() };
}
