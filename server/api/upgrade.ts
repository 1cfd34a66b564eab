// The WebSocket upgrade on the HTTP server's port: `/ws/{workspace}/{doc}` (the
// relay) and `/ws/workspace/{id}` (the seed's JSON protocol, compat). Who is
// connecting is settled here, before the relay sees the socket:
//   no or bad credentials → close 4401, no such workspace → 4404,
//   not a member → 4403 (in that order, so strangers learn nothing).
// A path that is not a WebSocket endpoint gets an HTTP 404. Query strings
// (tokens) are never logged.

import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import fastifyCookie from '@fastify/cookie';
import { WebSocketServer } from 'ws';
import type { Identity } from '../relay/api.ts';
import { parseRoomName, type DocKey } from '../protocol/docs.ts';
import { parseWorkspaceId, type WorkspaceId } from '../protocol/ids.ts';
import { CloseCode } from '../protocol/closeCodes.ts';
import { ACK_PARAM } from '../protocol/messages.ts';
import { CALL_PATH } from '../protocol/call.ts';
import { userColor } from '../protocol/colors.ts';
import { SESSION_COOKIE } from '../auth/sessions.ts';
import type { User } from '../storage/types.ts';
import type { AppContext, CompatHandler } from './context.ts';
import type { Metrics } from './metrics.ts';
import { originAllowed } from './authn.ts';

type Target =
	| { readonly kind: 'doc'; readonly key: DocKey }
	| { readonly kind: 'compat'; readonly workspace: WorkspaceId }
	| { readonly kind: 'call'; readonly workspace: WorkspaceId };

const COMPAT_PREFIX = '/ws/workspace/';
/** `/ws/{workspace}/call`: call signalling (server/calls). */
const CALL_PATH_RE = new RegExp(`^/ws/([^/]+)/${CALL_PATH}$`);

/** Which endpoint a path names, or null when it names none. */
export function parseTarget(path: string): Target | null {
	if (path.startsWith(COMPAT_PREFIX)) {
		const workspace = parseWorkspaceId(path.slice(COMPAT_PREFIX.length));
		return workspace ? { kind: 'compat', workspace } : null;
	}
	if (!path.startsWith('/ws/')) return null;
	const call = path.match(CALL_PATH_RE);
	if (call) {
		const workspace = parseWorkspaceId(call[1] ?? '');
		return workspace ? { kind: 'call', workspace } : null;
	}
	const key = parseRoomName(path.slice(4));
	return key ? { kind: 'doc', key } : null;
}

function refuseHttp(socket: Duplex, status: number, text: string): void {
	socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export interface UpgradeHandler {
	readonly wss: WebSocketServer;
	/** Stops accepting upgrades (draining). */
	stop(): void;
}

export function attachUpgrade(server: Server, ctx: AppContext, metrics: Metrics): UpgradeHandler {
	const compat: CompatHandler | null = ctx.compat ?? null;
	const wss = new WebSocketServer({ noServer: true, maxPayload: ctx.config.maxMessageBytes });
	const log = ctx.logger.child({ part: 'upgrade' });
	let accepting = true;

	/** Completes the handshake only to close with a code the client can act on. */
	const closeWith = (
		request: IncomingMessage,
		socket: Duplex,
		head: Buffer,
		code: number,
		reason: string
	) => {
		metrics.upgrades.inc({ outcome: String(code) });
		wss.handleUpgrade(request, socket, head, (ws) => {
			ws.on('error', (err) => log.debug({ err }, 'refused socket errored'));
			ws.close(code, reason);
		});
	};

	/** The user and sign-in session of an upgrade, or null when it carries no valid credentials. */
	async function identify(
		request: IncomingMessage,
		url: URL,
		workspace: WorkspaceId
	): Promise<{ user: User; session: string } | null> {
		const token = url.searchParams.get('token');
		if (token !== null) {
			const verified = await ctx.wsTokens.verify(token, workspace);
			if (!verified) return null;
			// A token lives only as long as the session it was issued in: signed out, it opens nothing.
			const user = await ctx.sessions.userOf(verified.session);
			return user?.id === verified.user ? { user, session: verified.session } : null;
		}
		const cookieHeader = request.headers.cookie;
		if (!cookieHeader) return null;
		// Cookies ride along on cross-site WebSocket requests: only our own pages may use them.
		if (!originAllowed(request.headers, ctx.config.publicUrl)) return null;
		const found = await ctx.sessions.lookup(fastifyCookie.parse(cookieHeader)[SESSION_COOKIE]);
		return found ? { user: found.user, session: found.id } : null;
	}

	async function handle(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
		const url = new URL(request.url ?? '/', 'http://upgrade.invalid');
		const target = parseTarget(url.pathname);
		if (!target) {
			metrics.upgrades.inc({ outcome: 'not_found' });
			return refuseHttp(socket, 404, 'Not Found');
		}
		if (!accepting) {
			metrics.upgrades.inc({ outcome: 'draining' });
			return refuseHttp(socket, 503, 'Service Unavailable');
		}
		const workspaceId = target.kind === 'doc' ? target.key.workspace : target.workspace;
		const who = await identify(request, url, workspaceId);
		if (!who) return closeWith(request, socket, head, CloseCode.unauthenticated, 'sign in first');
		const { user, session } = who;
		const workspace = await ctx.storage.getWorkspace(workspaceId);
		if (!workspace)
			return closeWith(request, socket, head, CloseCode.notFound, 'no such workspace');
		const member = await ctx.storage.getMember(workspaceId, user.id);
		if (!member) return closeWith(request, socket, head, CloseCode.forbidden, 'not a member');
		const identity: Identity = {
			id: user.id,
			name: user.name,
			email: user.email,
			color: userColor(user.id),
			role: member.role
		};
		wss.handleUpgrade(request, socket, head, (ws) => {
			metrics.upgrades.inc({ outcome: 'accepted' });
			ctx.sessionSockets.add(session, ws);
			log.debug({ path: url.pathname, user: user.id, role: member.role }, 'connection accepted');
			if (target.kind === 'doc') {
				ctx.relay.handleConnection(ws, target.key, identity, {
					ack: url.searchParams.get(ACK_PARAM) === '1'
				});
			} else if (target.kind === 'call') {
				ctx.calls.handleConnection(ws, target.workspace, identity);
			} else if (compat) {
				compat.handleConnection(ws, target.workspace, identity, url.searchParams);
			} else {
				ws.close(CloseCode.tryAgainLater, 'seed protocol not available');
			}
		});
	}

	server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
		socket.on('error', (err) => log.debug({ err }, 'upgrade socket error'));
		handle(request, socket, head).catch((err: unknown) => {
			log.error({ err, path: (request.url ?? '').split('?')[0] }, 'upgrade failed');
			metrics.upgrades.inc({ outcome: 'error' });
			if (!socket.destroyed) refuseHttp(socket, 500, 'Internal Server Error');
		});
	});

	return {
		wss,
		stop() {
			accepting = false;
		}
	};
}
