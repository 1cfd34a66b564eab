import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer | null = null;
afterEach(async () => {
	await s?.close();
	s = null;
});

describe('concurrent sign-ups', () => {
	it('[AUTH1] two sign-ups with one e-mail at once: one 201, one 409, never a 500', async () => {
		s = await startTestServer();
		const server = s;
		const body = { name: 'Twin', email: 'twin@example.com', password: 'long enough' };
		const replies = await Promise.all(
			[1, 2, 3].map(() => server.client().post('/api/auth/signup', body))
		);
		expect(replies.map((r) => r.status).sort()).toEqual([201, 409, 409]);
	});
});
