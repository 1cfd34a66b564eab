import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTeam, startTestServer, type TestServer } from '../helpers/server.ts';
import type { ErrorReply } from '../helpers/http.ts';
import { connectPeer, docReaches, synced } from '../helpers/yjs.ts';

interface ChatReply {
	message: { id: string; text: string; user: { id: string; name: string }; at: string };
}

let s: TestServer;
beforeEach(async () => {
	s = await startTestServer({ memory: true });
});
afterEach(async () => {
	await s.close();
});

describe('chat', () => {
	it('[CHAT1] a viewer’s message is stamped by the server and reaches everyone through live', async () => {
		const team = await makeTeam(s);
		const viewer = await team.add('Vera', 'viewer');
		const watcher = await connectPeer(s, team.owner, team.workspace, 'live');
		try {
			await synced(watcher);
			const sent = await viewer.client.post<ChatReply>(`/api/workspaces/${team.workspace}/chat`, {
				text: 'loss looks flat after epoch 10'
			});
			expect(sent.status).toBe(201);
			expect(sent.body.message.user).toMatchObject({ id: viewer.id, name: 'Vera' });
			const chat = watcher.doc.getArray<ChatReply['message']>('chat');
			await docReaches(watcher.doc, () => chat.length === 1, 'chat message arrives');
			expect(chat.get(0)).toMatchObject({
				text: 'loss looks flat after epoch 10',
				user: { id: viewer.id, name: 'Vera' }
			});
		} finally {
			watcher.destroy();
		}
	});

	it('[CHAT2] a retried message with the same id is stored once', async () => {
		const team = await makeTeam(s);
		const path = `/api/workspaces/${team.workspace}/chat`;
		const body = { text: 'queued while offline', id: 'msg-0123456789' };
		const first = await team.owner.post<ChatReply>(path, body);
		const retry = await team.owner.post<ChatReply>(path, body);
		expect(first.status).toBe(201);
		expect(retry.status).toBe(200);
		expect(retry.body.message.at).toBe(first.body.message.at);
		const live = await s.relay.open({ workspace: team.workspace as never, doc: 'live' });
		try {
			expect(live.doc.getArray('chat').length).toBe(1);
		} finally {
			live.release();
		}
	});

	it('[CHAT3] empty or oversized messages are refused with 400 and a message', async () => {
		const team = await makeTeam(s);
		const path = `/api/workspaces/${team.workspace}/chat`;
		for (const text of ['', '   ', 'x'.repeat(4001)]) {
			const reply = await team.owner.post<ErrorReply>(path, { text });
			expect(reply.status).toBe(400);
			expect(reply.body.error.message).toMatch(/text/);
		}
	});
});
