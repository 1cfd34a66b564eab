import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.ts';

describe('starting', () => {
	it('[OPS3] a port already in use is reported, and what was opened is closed again', async () => {
		const first = await startTestServer({ memory: true });
		try {
			await expect(startTestServer({ memory: true, port: first.port })).rejects.toThrow(
				/EADDRINUSE/
			);
			expect((await first.client().get('/healthz')).status).toBe(200);
		} finally {
			await first.close();
		}
	});
});
