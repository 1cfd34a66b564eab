// Rooms for a scenario, seen from the orchestrator. The peers take any room name;
// Ensemble needs an account, workspaces and a WebSocket token per workspace, made
// through its HTTP API as the app does (two writable documents per workspace).

import type { RoomRef } from './clients.ts';
import type { ServerHandle } from './proc.ts';

const sessions = new WeakMap<ServerHandle, string>();
let roomCounter = 0;

async function call(server: ServerHandle, path: string, init: RequestInit = {}): Promise<Response> {
	const cookie = sessions.get(server);
	const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
		...init,
		headers: {
			'content-type': 'application/json',
			...(cookie ? { cookie } : {}),
			...(init.headers as Record<string, string> | undefined)
		}
	});
	if (!res.ok) {
		throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
	}
	return res;
}

async function session(server: ServerHandle): Promise<void> {
	if (sessions.has(server)) return;
	const res = await call(server, '/api/auth/signup', {
		method: 'POST',
		body: JSON.stringify({
			name: 'Bench User',
			email: `bench-${process.pid}-${server.port}@example.com`,
			password: 'bench-password-1234'
		})
	});
	const cookie = res.headers
		.getSetCookie()
		.map((c) => c.split(';')[0])
		.join('; ');
	if (!cookie) throw new Error('signup set no session cookie');
	sessions.set(server, cookie);
}

/** Shares another server's session (processes sharing SECRET and a database). */
export function shareSession(from: ServerHandle, to: ServerHandle): void {
	const cookie = sessions.get(from);
	if (cookie) sessions.set(to, cookie);
}

export async function prepareRooms(server: ServerHandle, count: number): Promise<RoomRef[]> {
	if (server.kind !== 'ensemble') {
		return Array.from({ length: count }, () => ({
			kind: server.kind,
			port: server.port,
			room: `bench-${++roomCounter}`
		}));
	}
	await session(server);
	const refs: RoomRef[] = [];
	while (refs.length < count) {
		const { workspace: ws } = (await (
			await call(server, '/api/workspaces', {
				method: 'POST',
				body: JSON.stringify({ name: `bench ${++roomCounter}` })
			})
		).json()) as { workspace: { id: string } };
		const { token } = (await (await call(server, `/api/workspaces/${ws.id}/token`)).json()) as {
			token: string;
		};
		// One `params` room per workspace: the benches write a text under a schema
		// root (tests/helpers/schemaRoots.ts), which the relay checks per document (SCHEMA1).
		refs.push({ kind: 'ensemble', port: server.port, room: `${ws.id}/params`, token });
	}
	return refs;
}

/** The same rooms on another server (same workspaces: shared database). */
export function onServer(refs: readonly RoomRef[], server: ServerHandle): RoomRef[] {
	return refs.map((ref) => ({ ...ref, port: server.port }));
}

/** Reads one gauge or counter from Ensemble's Prometheus /metrics. */
export async function metric(server: ServerHandle, name: string): Promise<number> {
	const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
	const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
	if (!line) throw new Error(`/metrics has no ${name}`);
	return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Fresh tokens for the same Ensemble workspaces on a restarted or second server. */
export async function refreshTokens(
	from: ServerHandle,
	to: ServerHandle,
	refs: readonly RoomRef[]
): Promise<RoomRef[]> {
	if (to.kind !== 'ensemble') return onServer(refs, to);
	shareSession(from, to);
	const tokens = new Map<string, string>();
	const out: RoomRef[] = [];
	for (const ref of refs) {
		const workspace = ref.room.split('/')[0] ?? '';
		let token = tokens.get(workspace);
		if (!token) {
			const res = await call(to, `/api/workspaces/${workspace}/token`);
			token = ((await res.json()) as { token: string }).token;
			tokens.set(workspace, token);
		}
		out.push({ ...ref, port: to.port, token });
	}
	return out;
}
