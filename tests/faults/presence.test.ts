// Presence when a process dies (issue 11, item 3): two real processes on
// PostgreSQL and Redis; people on the killed one reconnect to the other with
// the same client ID, while someone there keeps the room loaded (PRES6).

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/http.ts';
import { Cluster, type Member } from '../helpers/cluster.ts';
import { servicesAvailable } from '../helpers/services.ts';
import { waitUntil } from '../helpers/wait.ts';
import { connectPeer, synced, type Peer } from '../helpers/yjs.ts';

/** y-protocols' awareness timeout (clients and servers drop a state not renewed for this long)… */
const PRESENCE_TIMEOUT_MS = 30_000;
/** …checked every tenth of it. */
const CHECK_MS = 3_000;

let available = false;
beforeAll(async () => {
	available = await servicesAvailable('tests/faults/presence.test.ts');
});

let cluster: Cluster | null = null;
const peers: Peer[] = [];
afterEach(async () => {
	for (const p of peers.splice(0)) p.destroy();
	await cluster?.close();
	cluster = null;
});

async function person(
	server: Member,
	client: ApiClient,
	workspace: string,
	view: string
): Promise<Peer> {
	const p = await connectPeer(server, client, workspace, 'live');
	peers.push(p);
	await synced(p);
	p.provider.awareness.setLocalStateField('current_view', view);
	return p;
}

/** Sends the provider's next reconnect attempt to `server` (as a load balancer would). */
function redirect(p: Peer, server: Member): void {
	p.provider.serverUrl = `${server.wsUrl}/ws`;
}

type Users = { users: { id: string; current_view: string }[] };

async function usersOn(client: ApiClient, workspace: string): Promise<Map<string, string>> {
	const reply = await client.get<Users>(`/api/workspaces/${workspace}/users`);
	expect(reply.status).toBe(200);
	return new Map(reply.body.users.map((u) => [u.id, u.current_view]));
}

describe('presence when a process dies', { timeout: 90_000 }, () => {
	it('[PRES6] a dead process’s presence expires everywhere within the presence timeout; a person reconnecting to another process with the same client ID shows at once', async ({
		skip
	}) => {
		if (!available) skip();
		cluster = await Cluster.start(2);
		const a = cluster.member(0);
		const b = cluster.member(1);
		const owner = new ApiClient(b.url);
		await owner.signup('Olivia', 'olivia@example.com');
		const workspace = (await owner.createWorkspace()).id;
		const join = async (name: string) => {
			const client = new ApiClient(a.url);
			const user = await client.signup(name, `${name.toLowerCase()}@example.com`);
			const invite = await owner.invite(workspace, user.email, 'editor');
			expect((await client.join(workspace, invite)).status).toBe(200);
			return { client, id: user.id };
		};
		const ed = await join('Ed');
		const pat = await join('Pat');

		// The owner watches from B (keeping the room loaded there); Ed and Pat are on A.
		const watcher = await person(b, owner, workspace, 'dashboard');
		const edPeer = await person(a, ed.client, workspace, 'code_editor');
		const patPeer = await person(a, pat.client, workspace, 'data_table');
		const seen = (p: Peer, view: string) =>
			[...watcher.provider.awareness.getStates().entries()].some(
				([id, s]) => id === p.doc.clientID && s.current_view === view
			);
		await waitUntil(() => seen(edPeer, 'code_editor') && seen(patPeer, 'data_table'), 'B sees A');

		// Ed's reconnects go to B; Pat's keep trying the dead A for now.
		redirect(edPeer, b);
		a.child.kill('SIGKILL');
		const killedAt = Date.now();
		expect(await a.exited).toBe('SIGKILL');

		// Ed shows at once on B: the watcher sees Ed's next change within a second or two.
		await waitUntil(() => edPeer.provider.wsconnected, 'Ed reconnected to B');
		edPeer.provider.awareness.setLocalStateField('current_view', 'dashboard');
		await waitUntil(() => seen(edPeer, 'dashboard'), "Ed's change after reconnecting", 2000);

		// Pat, on nobody's process now, is gone from B's list within the timeout.
		await waitUntil(
			async () => !(await usersOn(owner, workspace)).has(pat.id),
			"Pat's presence expiring on B",
			PRESENCE_TIMEOUT_MS + CHECK_MS + 2000
		);
		const expiredAfter = Date.now() - killedAt;
		console.log(`[PRES6] the dead process's presence expired on B after ${expiredAfter} ms`);
		expect(expiredAfter).toBeLessThanOrEqual(PRESENCE_TIMEOUT_MS + CHECK_MS + 2000);
		// Ed, renewed through B, is still there (before the fix the state A had
		// published timed out here and every renewal of Ed's was dropped).
		const users = await usersOn(owner, workspace);
		expect(users.get(ed.id)).toBe('dashboard');
		expect(seen(edPeer, 'dashboard')).toBe(true);

		// Pat reconnects to B after the expiry and shows at once too.
		redirect(patPeer, b);
		const back = Date.now();
		await waitUntil(() => seen(patPeer, 'data_table'), 'Pat back on B', 5000);
		await waitUntil(
			async () => (await usersOn(owner, workspace)).get(pat.id) === 'data_table',
			'Pat listed on B',
			2000
		);
		console.log(`[PRES6] Pat shown ${Date.now() - back} ms after reconnecting to B`);
	});
});
