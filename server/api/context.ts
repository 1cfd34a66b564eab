// Everything the HTTP routes and the upgrade handler need, built once in main.ts.

import type { Config } from '../config.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { WebSocket } from 'ws';
import type { Identity, PresentUser, RelayApi } from '../relay/api.ts';
import type { WorkspaceId } from '../protocol/ids.ts';
import type { Storage } from '../storage/types.ts';
import type { Invites } from '../auth/invites.ts';
import type { Mailer } from '../auth/mailer.ts';
import type { SignInLimiter } from '../auth/rateLimit.ts';
import type { Sessions } from '../auth/sessions.ts';
import type { WsTokens } from '../auth/wsTokens.ts';
import type { SessionSockets } from './sessionSockets.ts';
import type { CallServer } from '../calls/callServer.ts';

/** What /readyz reports, beyond storage.healthy(). */
export interface Readiness {
	draining: boolean;
	/** Extra checks (the Redis bus); each resolves true when healthy. */
	readonly checks: Array<{ name: string; check: () => Promise<boolean> }>;
}

/** The seed-protocol layer (server/compat); its connections follow role changes through the relay. */
export interface CompatHandler {
	handleConnection(
		socket: WebSocket,
		workspace: WorkspaceId,
		identity: Identity,
		query: URLSearchParams
	): void;
	closeWorkspace(workspace: WorkspaceId): Promise<void>;
	/** People connected over the JSON protocol (the relay does not count them). */
	presentUsers(workspace: WorkspaceId): PresentUser[];
}

export interface AppContext {
	readonly config: Config;
	readonly storage: Storage;
	readonly relay: RelayApi;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly sessions: Sessions;
	readonly wsTokens: WsTokens;
	readonly invites: Invites;
	readonly mailer: Mailer;
	readonly signInLimiter: SignInLimiter;
	/** Sockets per sign-in session, closed when it signs out (on every process). */
	readonly sessionSockets: SessionSockets;
	readonly readiness: Readiness;
	/** Call signalling at /ws/{workspace}/call (viewers too: talking is not editing). */
	readonly calls: Pick<CallServer, 'handleConnection' | 'closeWorkspace'>;
	/** Absent in contexts built without the seed protocol (tests of other parts). */
	readonly compat?: CompatHandler;
}
