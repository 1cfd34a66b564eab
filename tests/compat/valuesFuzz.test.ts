// Fuzz: JSON-protocol state_update values of any depth and size against the real
// server (SPEC.md LIMIT7, COMPAT10). Every one is either stored and broadcast or
// refused with value_too_deep / value_too_large; the server survives all of them.
// Replay with RELAY_SEED.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_VALUE_DEPTH } from '../../server/protocol/values.ts';
import { DEFAULT_COMPAT_LIMITS } from '../../server/compat/connection.ts';
import { startTestServer, makeTeam, type Team, type TestServer } from '../helpers/server.ts';
import { seedFromEnv } from '../relay/random.ts';
import { JsonClient } from './jsonClient.ts';

let server: TestServer;
let team: Team;

beforeAll(async () => {
	server = await startTestServer({ memory: true });
	team = await makeTeam(server);
});

afterAll(async () => {
	await server.close();
});

async function connect(): Promise<JsonClient> {
	const token = await team.owner.wsToken(team.workspace);
	return JsonClient.connect(`${server.wsUrl}/ws/workspace/${team.workspace}?token=${token}`);
}

/** A value with `depth` containers (arrays or objects) and `pad` characters at the leaf, as JSON text. */
function valueJson(depth: number, objects: boolean, pad: number): string {
	const open = objects ? '{"a":' : '[';
	const close = objects ? '}' : ']';
	return `${open.repeat(depth)}"${'x'.repeat(pad)}"${close.repeat(depth)}`;
}

describe('JSON-protocol value fuzz', () => {
	it(
		'[LIMIT7] state_update values of any depth below any path: stored, or refused with the right code; the server survives',
		{
			timeout: 60_000
		},
		async () => {
			const seed = seedFromEnv();
			console.log(`JSON value fuzz seed ${seed} (RELAY_SEED=${seed} to replay)`);
			const outcomes = { stored: 0, tooDeep: 0, tooLarge: 0 };
			let run = 0;
			let c = await connect();
			let errors = 0;
			await fc.assert(
				fc.asyncProperty(
					fc.oneof(
						fc.integer({ min: 0, max: MAX_VALUE_DEPTH + 2 }),
						fc.integer({ min: 0, max: 20_000 })
					),
					fc.boolean(),
					fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 80_000 })),
					fc.integer({ min: 0, max: 3 }),
					async (depth, objects, pad, below) => {
						// A fresh key per case (no earlier value in the way), and a fresh
						// connection before the abuse rule (20 errors in 10 s) would close it.
						const key = `k${run++}`;
						const path = [key, ...['p', 'q', 'r'].slice(0, below)].join('.');
						const text = valueJson(depth, objects, pad);
						if (errors >= 15) {
							await c.close();
							c = await connect();
							errors = 0;
						}
						{
							const from = c.mark();
							c.send(`{"type":"state_update","path":"${path}","value":${text}}`);
							const reply = await c.waitFor(
								// A dotted path's change is broadcast as a change of its key.
								(m) => m.type === 'error' || (m.type === 'state_update' && m.path === key),
								`a reply for depth ${depth} below ${below}`,
								from
							);
							if (reply.type === 'error') errors++;
							if (below + depth > MAX_VALUE_DEPTH) {
								expect(reply.code).toBe('value_too_deep');
								outcomes.tooDeep++;
							} else if (text.length > DEFAULT_COMPAT_LIMITS.maxValueBytes) {
								expect(reply.code).toBe('value_too_large');
								outcomes.tooLarge++;
							} else {
								expect(reply.type).toBe('state_update');
								outcomes.stored++;
							}
						}
					}
				),
				{ seed, numRuns: 40 }
			);
			console.log(`JSON value fuzz outcomes ${JSON.stringify(outcomes)}`);
			await c.close();
			// Alive after all of it, and what was stored loads.
			const last = await connect();
			try {
				const from = last.mark();
				last.send({ type: 'ping' });
				await last.waitFor((m) => m.type === 'pong', 'pong', from);
			} finally {
				await last.close();
			}
			const params = await team.owner.get(`/api/workspaces/${team.workspace}/hyperparameters`);
			expect(params.status).toBe(200);
		}
	);
});
