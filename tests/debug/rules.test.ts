// The server's debug rules against a real server: breakpoints anchored to the
// text, a viewer's command refused, a script that stops polling shown as gone
// with its breakpoints kept, and commands reaching the script.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
	anchorFor,
	breakpointsMap,
	resolveBreakpoints,
	sessionsMap,
	type Breakpoint,
	type DebugSession
} from '../../server/protocol/debug.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { connectPeer, docReaches, synced, type Peer } from '../helpers/yjs.ts';

const CODE = 'a = 1\nb = 2\nc = 3\n';
let server: TestServer;
let team: Team;
const peers: Peer[] = [];

beforeEach(async () => {
	server = await startTestServer({ memory: true, debugGoneAfterS: 1 });
	team = await makeTeam(server);
});

afterEach(async () => {
	for (const p of peers.splice(0)) p.destroy();
	await server.close();
});

async function peer(doc: string, client = team.owner): Promise<Peer> {
	const p = await connectPeer(server, client, team.workspace, doc);
	peers.push(p);
	await synced(p);
	return p;
}

/** A script's side: the API key's HTTP calls. */
async function script() {
	const { body } = await team.owner.post<{ key: string }>(
		`/api/workspaces/${team.workspace}/api-keys`,
		{ name: 'script' }
	);
	const base = `${server.url}/api/workspaces/${team.workspace}/debug/sessions`;
	const call = async (method: string, path: string, json?: unknown) => {
		const res = await fetch(base + path, {
			method,
			headers: {
				authorization: `Bearer ${body.key}`,
				...(json ? { 'content-type': 'application/json' } : {})
			},
			body: json ? JSON.stringify(json) : undefined
		});
		const text = await res.text();
		return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
	};
	return call;
}

/** A script registers and says it paused at train.py:18 (at `breakpoint`, or after a step). */
async function pausedAt18(call: Awaited<ReturnType<typeof script>>, breakpoint: string | null) {
	const opened = await call('POST', '', { file: 'train.py' });
	const id = opened.body.session as string;
	const paused = await call('POST', `/${id}/events`, {
		t: 'paused',
		file: 'train.py',
		line: 18,
		reason: breakpoint ? 'breakpoint' : 'step',
		breakpoint,
		stack: [{ file: 'train.py', line: 18, function: 'train', locals: [] }]
	});
	expect(paused.status).toBe(204);
	return { opened, id };
}

function session(live: Y.Doc): DebugSession | undefined {
	return [...sessionsMap(live).values()][0];
}

describe('shared breakpoints and debug sessions', () => {
	it('[DBG1] a breakpoint stays on its line while people edit above and below it', async () => {
		const code = await peer('code');
		const other = await peer('code');
		code.doc.getMap('files').set('train.py', new Y.Text(CODE));
		await docReaches(other.doc, (d) => d.getMap('files').has('train.py'), 'the file');
		const text = code.doc.getMap<Y.Text>('files').get('train.py')!;
		const bp: Breakpoint = {
			file: 'train.py',
			anchor: anchorFor(text, 2),
			line: 2,
			by: { id: team.ownerId, name: 'Olivia' },
			at: 0
		};
		breakpointsMap(code.doc).set('bp', bp);
		// Someone else inserts two lines at the top and edits inside line 2 and after it.
		await docReaches(other.doc, (d) => breakpointsMap(d).has('bp'), 'the breakpoint');
		const theirs = other.doc.getMap<Y.Text>('files').get('train.py')!;
		theirs.insert(0, '# one\n# two\n');
		theirs.insert(theirs.toJSON().indexOf('b = 2') + 4, '20');
		theirs.insert(theirs.length, 'd = 4\n');
		await docReaches(
			code.doc,
			(d) => resolveBreakpoints(d)[0]?.line === 4,
			'the breakpoint on line 4'
		);
		expect(text.toJSON().split('\n')[3]).toBe('b = 202');
		// The server resolves it the same way for a script.
		const call = await script();
		const opened = await call('POST', '', { file: 'train.py' });
		expect(opened.status).toBe(201);
		expect(opened.body.breakpoints).toMatchObject([{ id: 'bp', file: 'train.py', line: 4 }]);
	});

	it('[DBG2] a viewer can neither set a breakpoint over HTTP nor command a paused script; the owner’s command reaches the script', async () => {
		const viewer = await team.add('Pia', 'viewer');
		const call = await script();
		const { opened, id } = await pausedAt18(call, null);
		const refused = await viewer.client.post<{ error: { code: string; message: string } }>(
			`/api/workspaces/${team.workspace}/debug/sessions/${id}/commands`,
			{ command: 'continue' }
		);
		expect(refused.status).toBe(403);
		expect(refused.body.error.message).toMatch(/^Viewers watch/);
		const byHttp = await viewer.client.post(`/api/workspaces/${team.workspace}/debug/breakpoints`, {
			file: 'train.py',
			line: 3
		});
		expect(byHttp.status).toBe(403);
		// The owner's command goes through and reaches the script's poll.
		const sent = await team.owner.post(
			`/api/workspaces/${team.workspace}/debug/sessions/${id}/commands`,
			{ command: 'eval', expression: 'loss' }
		);
		expect(sent.status).toBe(202);
		const polled = await call(
			'GET',
			`/${id}/poll?after=0&version=${opened.body.version as string}`
		);
		expect(polled.body.commands).toMatchObject([
			{ seq: 1, command: 'eval', expression: 'loss', by: { name: 'Olivia' } }
		]);
	});

	it('[DBG3] a script that stops polling while paused is shown as gone, and the breakpoints stay', async () => {
		const live = await peer('live');
		const call = await script();
		const set = await team.owner.post<{ id: string }>(
			`/api/workspaces/${team.workspace}/debug/breakpoints`,
			{ file: 'train.py', line: 18 }
		);
		expect(set.status).toBe(201);
		const { id } = await pausedAt18(call, set.body.id);
		await docReaches(live.doc, (d) => session(d)?.status === 'paused', 'paused', 10_000);
		expect(session(live.doc)?.paused?.breakpoint?.by.name).toBe('Olivia');
		// No more polls: gone after DEBUG_GONE_AFTER_S (1 s here), the pause still shown.
		await docReaches(live.doc, (d) => session(d)?.status === 'gone', 'gone', 10_000);
		expect(session(live.doc)?.note).toMatch(/stopped answering/);
		expect(session(live.doc)?.paused?.line).toBe(18);
		const code = await peer('code');
		expect(resolveBreakpoints(code.doc)).toMatchObject([{ id: set.body.id, line: 18 }]);
		const late = await team.owner.post<{ error: { message: string } }>(
			`/api/workspaces/${team.workspace}/debug/sessions/${id}/commands`,
			{ command: 'continue' }
		);
		expect(late.status).toBe(409);
		expect(late.body.error.message).toMatch(/gone/);
	});

	it('[DBG4] a script that keeps polling stays; bad events are a 400 that says why', async () => {
		const live = await peer('live');
		const call = await script();
		const opened = await call('POST', '', { file: 'train.py' });
		const id = opened.body.session as string;
		// Two polls of 1.5 s each, back to back, outlive the 1 s limit without going gone.
		for (let i = 0; i < 2; i++) {
			const polled = await call(
				'GET',
				`/${id}/poll?after=0&version=${opened.body.version as string}&wait_s=1.5`
			);
			expect(polled.body.status).toBe('running');
		}
		expect(session(live.doc)?.status).toBe('running');
		const bad = await call('POST', `/${id}/events`, { t: 'paused', file: 'train.py' });
		expect(bad.status).toBe(400);
		const ended = await call('POST', `/${id}/events`, {
			t: 'ended',
			note: 'train.py exited with code 0.'
		});
		expect(ended.status).toBe(204);
		await docReaches(live.doc, (d) => session(d)?.status === 'ended', 'ended');
	});
});
