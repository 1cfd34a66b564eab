import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import { closeCodeOf, upgradeOutcome } from '../helpers/yjs.ts';
import { withDeadline } from '../helpers/wait.ts';

let s: TestServer;
let team: Team;
beforeAll(async () => {
	s = await startTestServer({ memory: true });
	team = await makeTeam(s);
});
afterAll(async () => {
	await s.close();
});

interface StateMessage {
	type: string;
	state: { hyperparameters: Record<string, unknown> };
	you: { id: string; role: string };
}

describe("the seed's JSON endpoint on the same port", () => {
	it('[WS1] /ws/workspace/{id} authenticates like the relay and speaks the seed protocol', async () => {
		expect(await upgradeOutcome(`${s.wsUrl}/ws/workspace/${team.workspace}`)).toEqual({
			kind: 'close',
			code: 4401
		});
		const viewer = await team.add('Vi', 'viewer');
		const token = await viewer.client.wsToken(team.workspace);
		// The seed's user_role may lower the role, never raise it.
		const ws = new WebSocket(
			`${s.wsUrl}/ws/workspace/${team.workspace}?token=${token}&user_role=owner`
		);
		const first = await withDeadline(
			new Promise<StateMessage>((resolve, reject) => {
				ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as StateMessage));
				ws.once('close', (code) => reject(new Error(`closed ${code}`)));
			}),
			'workspace_state'
		);
		expect(first.type).toBe('workspace_state');
		expect(first.you).toMatchObject({ id: viewer.id, role: 'viewer' });
		expect(first.state.hyperparameters.learning_rate).toBe(0.01);
		const closed = closeCodeOf(ws);
		expect(
			(await team.owner.delete(`/api/workspaces/${team.workspace}/members/${viewer.id}`)).status
		).toBe(204);
		expect(await closed).toBe(4403);
	});

	it('[API12] people on the JSON protocol count in /users and in active_users', async () => {
		const editor = await team.add('Jay', 'editor');
		const token = await editor.client.wsToken(team.workspace);
		const ws = new WebSocket(`${s.wsUrl}/ws/workspace/${team.workspace}?token=${token}`);
		try {
			await withDeadline(
				new Promise<void>((resolve, reject) => {
					ws.once('message', () => resolve());
					ws.once('close', (code) => reject(new Error(`closed ${code}`)));
				}),
				'workspace_state'
			);
			const users = await team.owner.get<{ users: Array<{ id: string; name: string }> }>(
				`/api/workspaces/${team.workspace}/users`
			);
			expect(users.body.users).toEqual([expect.objectContaining({ id: editor.id, name: 'Jay' })]);
			const state = await team.owner.get<{ active_users: number }>(
				`/api/workspaces/${team.workspace}/state`
			);
			expect(state.body.active_users).toBe(1);
		} finally {
			ws.close();
		}
	});
});
