// What a server under test looks like to the host process (servers/host.ts).

export type ServerKind = 'ensemble' | 'ywebsocket' | 'hocuspocus';

export const SERVER_KINDS: readonly ServerKind[] = ['ensemble', 'ywebsocket', 'hocuspocus'];

export const SERVER_LABEL: Record<ServerKind, string> = {
	ensemble: 'Ensemble',
	ywebsocket: 'y-websocket 0.1.1',
	hocuspocus: 'Hocuspocus 4'
};

export interface StartOptions {
	/** A fresh temp directory (or one reused across a restart for cold load). */
	readonly dataDir: string;
	/** Peers: persist to SQLite in dataDir (Ensemble always stores). */
	readonly store: boolean;
	/** Extra environment for Ensemble (DATABASE_URL, REDIS_URL). */
	readonly env?: Readonly<Record<string, string>>;
}

export interface RunningServer {
	readonly port: number;
	close(): Promise<void>;
}

/** Sent by the host over IPC. */
export interface ServerSample {
	readonly cpuUserUs: number;
	readonly cpuSystemUs: number;
	readonly rss: number;
	readonly heapUsed: number;
	readonly external: number;
	/** Peak resident set size (VmHWM) in bytes. */
	readonly vmHWM: number;
}

export type HostRequest =
	| { readonly type: 'sample'; readonly id: number; readonly gc: boolean }
	| { readonly type: 'close'; readonly id: number }
	/** Start a CPU profile of the main thread, or stop it and write it to `file`. */
	| { readonly type: 'profile'; readonly id: number; readonly file: string | null };

export type HostReply =
	| { readonly type: 'ready'; readonly port: number }
	| { readonly type: 'sample'; readonly id: number; readonly sample: ServerSample }
	| { readonly type: 'closed'; readonly id: number }
	| { readonly type: 'profile'; readonly id: number }
	| { readonly type: 'error'; readonly message: string };
