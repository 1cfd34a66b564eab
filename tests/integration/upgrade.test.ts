import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { email, makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { connectPeer, synced, upgradeOutcome } from '../helpers/yjs.ts';

let s: TestServer;
let team: Team;
let token: string;
beforeAll(async () => {
	s = await startTestServer({ memory: true });
	team = await makeTeam(s);
	token = await team.owner.wsToken(team.workspace);
});
afterAll(async () => {
	await s.close();
});

describe('authentication at the upgrade', () => {
	it('[WS2] no credentials: closed with 4401', async () => {
		expect(await upgradeOutcome(`${s.wsUrl}/ws/${team.workspace}/params`)).toEqual({
			kind: 'close',
			code: 4401
		});
	});

	it('[WS2] a bad token: closed with 4401', async () => {
		const forged = token.slice(0, -4) + 'AAAA';
		expect(await upgradeOutcome(`${s.wsUrl}/ws/${team.workspace}/params?token=${forged}`)).toEqual({
			kind: 'close',
			code: 4401
		});
		expect(await upgradeOutcome(`${s.wsUrl}/ws/${team.workspace}/params?token=garbage`)).toEqual({
			kind: 'close',
			code: 4401
		});
	});

	it('[WS2] a token for another workspace: closed with 4401', async () => {
		const other = await team.owner.createWorkspace('Other');
		expect(await upgradeOutcome(`${s.wsUrl}/ws/${other.id}/params?token=${token}`)).toEqual({
			kind: 'close',
			code: 4401
		});
	});

	it('[WS2] no such workspace: closed with 4404', async () => {
		const stray = s.client();
		await stray.signup('Stray', email('Stray'));
		const doomed = await stray.createWorkspace('Doomed');
		const doomedToken = await stray.wsToken(doomed.id);
		expect((await stray.delete(`/api/workspaces/${doomed.id}`)).status).toBe(204);
		expect(await upgradeOutcome(`${s.wsUrl}/ws/${doomed.id}/params?token=${doomedToken}`)).toEqual({
			kind: 'close',
			code: 4404
		});
	});

	it('[WS2] not a member: closed with 4403', async () => {
		const outsider = s.client();
		await outsider.signup('Out', email('Out'));
		// A session cookie of someone who is not a member.
		expect(
			await upgradeOutcome(`${s.wsUrl}/ws/${team.workspace}/code`, {
				cookie: outsider.cookie ?? ''
			})
		).toEqual({ kind: 'close', code: 4403 });
	});

	it('[WS2][AUTH9] the session cookie works from our own origin, not from another', async () => {
		const cookie = team.owner.cookie ?? '';
		const foreign = await upgradeOutcome(`${s.wsUrl}/ws/${team.workspace}/params`, {
			cookie,
			origin: 'https://evil.example'
		});
		expect(foreign).toEqual({ kind: 'close', code: 4401 });
		// From our own origin the socket is accepted: it syncs like any client.
		const { default: WebSocket } = await import('ws');
		const ws = new WebSocket(`${s.wsUrl}/ws/${team.workspace}/params`, {
			headers: { cookie, origin: s.url }
		});
		const first = await new Promise<Buffer>((resolve, reject) => {
			ws.once('message', (data: Buffer) => resolve(data));
			ws.once('close', (code) => reject(new Error(`closed ${code}`)));
		});
		expect(first[0]).toBe(0); // sync step 1 from the server
		ws.close();
	});

	it('[WS1] paths that are no WebSocket endpoint are an HTTP 404', async () => {
		for (const path of [
			'/ws/nope',
			`/ws/${team.workspace}/secrets`,
			'/elsewhere',
			`/ws/${team.workspace}/run/bad id`
		]) {
			expect(await upgradeOutcome(`${s.wsUrl}${path}?token=${token}`)).toEqual({
				kind: 'http',
				status: 404
			});
		}
	});

	it('[WS1] a stock provider syncs every document kind with a token', async () => {
		for (const doc of ['params', 'code', 'live', 'run/run123']) {
			const peer = await connectPeer(s, team.owner, team.workspace, doc, { token });
			await synced(peer);
			peer.destroy();
		}
	});
});
