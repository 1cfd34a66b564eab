import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { DEFAULT_HYPERPARAMETERS } from '../../server/protocol/docs.ts';
import { email, makeTeam, startTestServer, type TestServer } from '../helpers/server.ts';
import type { ErrorReply, WorkspaceBody } from '../helpers/http.ts';

let s: TestServer;
beforeEach(async () => {
	s = await startTestServer({ memory: true });
});
afterEach(async () => {
	await s.close();
});

interface StateBody {
	state: {
		hyperparameters: Record<string, unknown>;
		training_status: string;
		selected_algorithm: string | null;
	};
	active_users: number;
}
interface MembersBody {
	members: Array<{ id: string; name: string; role: string; color: string; email: string }>;
}

describe('workspaces', () => {
	it('[API4] a new workspace is owned by its creator and starts with default hyperparameters and train.py', async () => {
		const owner = s.client();
		const me = await owner.signup('Olivia', email('Olivia'));
		const created = await owner.post<WorkspaceBody>('/api/workspaces', { name: '  Iris  ' });
		expect(created.status).toBe(201);
		expect(created.body.workspace).toMatchObject({ name: 'Iris', role: 'owner' });
		const id = created.body.workspace.id;
		const list = await owner.get<{ workspaces: WorkspaceBody['workspace'][] }>('/api/workspaces');
		expect(list.body.workspaces.map((w) => w.id)).toEqual([id]);
		const state = await owner.get<StateBody>(`/api/workspaces/${id}/state`);
		expect(state.status).toBe(200);
		expect(state.body.state.hyperparameters).toEqual(DEFAULT_HYPERPARAMETERS);
		expect(state.body.state.training_status).toBe('idle');
		expect(state.body.active_users).toBe(0);
		const code = await s.relay.open({ workspace: id as never, doc: 'code' });
		try {
			expect(code.doc.getMap<Y.Text>('files').get('train.py')?.toJSON()).toContain('def train(');
		} finally {
			code.release();
		}
		const members = await owner.get<MembersBody>(`/api/workspaces/${id}/members`);
		expect(members.body.members).toEqual([
			expect.objectContaining({ id: me.id, role: 'owner', name: 'Olivia' })
		]);
	});

	it('[API3] unknown workspaces are 404, non-members 403, signed-out 401', async () => {
		const team = await makeTeam(s);
		const stranger = s.client();
		await stranger.signup('Sam', email('Sam'));
		const unknown = await team.owner.get<ErrorReply>('/api/workspaces/nosuchworkspace123/state');
		expect(unknown.status).toBe(404);
		expect(unknown.body.error.code).toBe('not_found');
		const forbidden = await stranger.get<ErrorReply>(`/api/workspaces/${team.workspace}/state`);
		expect(forbidden.status).toBe(403);
		expect(forbidden.body.error.code).toBe('forbidden');
		const anonymous = await s.client().get<ErrorReply>(`/api/workspaces/${team.workspace}/state`);
		expect(anonymous.status).toBe(401);
	});

	it('[API3] only the owner renames and deletes; a deleted workspace is gone', async () => {
		const team = await makeTeam(s);
		const editor = await team.add('Ed', 'editor');
		const path = `/api/workspaces/${team.workspace}`;
		expect((await editor.client.patch(path, { name: 'Mine' })).status).toBe(403);
		expect((await editor.client.delete(path)).status).toBe(403);
		const renamed = await team.owner.patch<WorkspaceBody>(path, { name: 'Renamed' });
		expect(renamed.status).toBe(200);
		expect(renamed.body.workspace.name).toBe('Renamed');
		expect((await editor.client.get<WorkspaceBody>(path)).body.workspace).toMatchObject({
			name: 'Renamed',
			role: 'editor'
		});
		expect((await team.owner.delete(path)).status).toBe(204);
		expect((await team.owner.get(`${path}/state`)).status).toBe(404);
		expect(
			(await editor.client.get<{ workspaces: unknown[] }>('/api/workspaces')).body.workspaces
		).toEqual([]);
	});

	it('[API5] the owner changes roles and removes members; the last owner cannot leave or be demoted', async () => {
		const team = await makeTeam(s);
		const viewer = await team.add('Vi', 'viewer');
		const base = `/api/workspaces/${team.workspace}/members`;
		expect((await viewer.client.patch(`${base}/${team.ownerId}`, { role: 'viewer' })).status).toBe(
			403
		);
		const promoted = await team.owner.patch<{ member: { role: string } }>(`${base}/${viewer.id}`, {
			role: 'editor'
		});
		expect(promoted.status).toBe(200);
		expect(promoted.body.member.role).toBe('editor');
		const demoteSelf = await team.owner.patch<ErrorReply>(`${base}/${team.ownerId}`, {
			role: 'editor'
		});
		expect(demoteSelf.status).toBe(409);
		expect(demoteSelf.body.error.code).toBe('last_owner');
		expect((await team.owner.delete<ErrorReply>(`${base}/${team.ownerId}`)).status).toBe(409);
		// With a second owner, the first may step down.
		expect((await team.owner.patch(`${base}/${viewer.id}`, { role: 'owner' })).status).toBe(200);
		expect((await team.owner.patch(`${base}/${team.ownerId}`, { role: 'editor' })).status).toBe(
			200
		);
		expect((await team.owner.patch(`${base}/nosuchuser`, { role: 'editor' })).status).toBe(403);
		expect((await viewer.client.delete(`${base}/${team.ownerId}`)).status).toBe(204);
		const members = await viewer.client.get<MembersBody>(base);
		expect(members.body.members.map((m) => m.id)).toEqual([viewer.id]);
	});

	it('[API5] any member may leave on their own', async () => {
		const team = await makeTeam(s);
		const viewer = await team.add('Vi', 'viewer');
		const other = await team.add('Ot', 'viewer');
		const base = `/api/workspaces/${team.workspace}/members`;
		expect((await viewer.client.delete(`${base}/${other.id}`)).status).toBe(403);
		expect((await viewer.client.delete(`${base}/${viewer.id}`)).status).toBe(204);
		expect((await viewer.client.get(base)).status).toBe(403);
	});

	it('[API7] /users lists nobody when nobody is connected, in the seed shape', async () => {
		const team = await makeTeam(s);
		const users = await team.owner.get<{ users: unknown[] }>(
			`/api/workspaces/${team.workspace}/users`
		);
		expect(users.status).toBe(200);
		expect(users.body).toEqual({ users: [] });
	});

	it('[API1] the token endpoint returns a token and its expiry', async () => {
		const team = await makeTeam(s);
		const reply = await team.owner.get<{ token: string; expires_at: string }>(
			`/api/workspaces/${team.workspace}/token`
		);
		expect(reply.status).toBe(200);
		expect(reply.body.token.split('.')).toHaveLength(3);
		const ms = Date.parse(reply.body.expires_at) - Date.now();
		expect(ms).toBeGreaterThan(60_000);
		expect(ms).toBeLessThanOrEqual(5 * 60_000);
		expect(reply.headers.get('cache-control')).toBe('no-store');
	});
});
