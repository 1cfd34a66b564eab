import * as Y from 'yjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTeam, ManualClock, startTestServer, type TestServer } from '../helpers/server.ts';
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
		for (const text of ['', '   ', 'x'.repeat(2001)]) {
			const reply = await team.owner.post<ErrorReply>(path, { text });
			expect(reply.status).toBe(400);
			expect(reply.body.error.message).toMatch(/text/);
		}
	});

	it('[SEC6] chat is limited per person: a flood of long messages is refused with 429 and Retry-After, others still talk, and live stays small', async () => {
		const clock = new ManualClock();
		const limited = await startTestServer({ memory: true, clock });
		try {
			const team = await makeTeam(limited);
			const viewer = await team.add('Flo', 'viewer');
			const path = `/api/workspaces/${team.workspace}/chat`;
			// 16 KB in one message (4,000 four-byte characters) is refused outright.
			const huge = await viewer.client.post<ErrorReply>(path, { text: '😀'.repeat(4000) });
			expect(huge.status).toBe(400);
			expect(huge.body.error.message).toMatch(/text/);

			const statuses: number[] = [];
			let refusal: Awaited<ReturnType<typeof viewer.client.post<ErrorReply>>> | null = null;
			for (let i = 0; i < 300; i++) {
				const r = await viewer.client.post<ErrorReply>(path, { text: `${i} ${'x'.repeat(1990)}` });
				statuses.push(r.status);
				if (r.status === 429) refusal ??= r;
			}
			const accepted = statuses.filter((st) => st === 201).length;
			expect(accepted).toBeGreaterThan(0);
			expect(accepted).toBeLessThanOrEqual(10);
			expect(statuses.filter((st) => st === 429).length).toBe(300 - accepted);
			expect(refusal?.body.error.code).toBe('rate_limited');
			expect(refusal?.body.error.message).toMatch(/too fast/);
			expect(Number(refusal?.headers.get('retry-after'))).toBeGreaterThan(0);

			// Someone else in the same workspace is not held back.
			expect((await team.owner.post(path, { text: 'still here' })).status).toBe(201);
			// A new client of live downloads what was accepted, not the flood.
			const live = await limited.relay.open({ workspace: team.workspace as never, doc: 'live' });
			try {
				expect(live.doc.getArray('chat').length).toBe(accepted + 1);
				expect(Y.encodeStateAsUpdate(live.doc).byteLength).toBeLessThan(40_000);
			} finally {
				live.release();
			}
			// After a pause the person talks again.
			clock.advance(60_000);
			expect((await viewer.client.post(path, { text: 'sorry' })).status).toBe(201);
		} finally {
			await limited.close();
		}
	});

	it('[CHAT5] a message written offline keeps the time it was written; a future or ancient time is not believed', async () => {
		const team = await makeTeam(s);
		const path = `/api/workspaces/${team.workspace}/chat`;
		const written = Date.now() - 5 * 60_000;
		const late = await team.owner.post<ChatReply & { message: { received_at?: string } }>(path, {
			text: 'written on the train',
			written_at: written
		});
		expect(late.status).toBe(201);
		expect(Date.parse(late.body.message.at)).toBe(written);
		expect(Date.parse(late.body.message.received_at ?? '')).toBeGreaterThan(written);
		for (const claimed of [Date.now() + 3_600_000, 0]) {
			const before = Date.now();
			const odd = await team.owner.post<ChatReply>(path, {
				text: 'odd clock',
				written_at: claimed
			});
			expect(odd.status).toBe(201);
			expect(Date.parse(odd.body.message.at)).toBeGreaterThanOrEqual(before - 1000);
		}
		const bad = await team.owner.post<ErrorReply>(path, { text: 'x', written_at: 'yesterday' });
		expect(bad.status).toBe(400);
		expect(bad.body.error.message).toMatch(/written_at/);
	});
});
