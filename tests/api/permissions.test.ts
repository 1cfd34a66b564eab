import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasPermission, PERMISSIONS, ROLES } from '../../server/protocol/roles.ts';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import type { ApiClient } from '../helpers/http.ts';

// The seed's ROLE_PERMISSIONS, written out by hand.
const SEED_TABLE: Record<string, string[]> = {
	owner: [
		'view_workspace',
		'edit_hyperparameters',
		'start_training',
		'edit_code',
		'upload_data',
		'invite_users',
		'manage_permissions'
	],
	editor: ['view_workspace', 'edit_hyperparameters', 'start_training', 'edit_code', 'upload_data'],
	viewer: ['view_workspace']
};

describe('the permission table', () => {
	it("[ROLE1] hasPermission is the seed's table exactly", () => {
		expect([...ROLES]).toEqual(['owner', 'editor', 'viewer']);
		expect(PERMISSIONS).toHaveLength(7);
		for (const role of ROLES) {
			for (const permission of PERMISSIONS) {
				expect(hasPermission(role, permission), `${role} ${permission}`).toBe(
					SEED_TABLE[role]?.includes(permission)
				);
			}
		}
	});
});

let s: TestServer;
let team: Team;
const as: Record<string, ApiClient> = {};
beforeAll(async () => {
	s = await startTestServer({ memory: true });
	team = await makeTeam(s);
	as.owner = team.owner;
	as.editor = (await team.add('Ed', 'editor')).client;
	as.viewer = (await team.add('Vi', 'viewer')).client;
});
afterAll(async () => {
	await s.close();
});

// What each role gets from each endpoint: the table applied over HTTP.
const MATRIX: Array<
	[string, string, string, unknown, Record<'owner' | 'editor' | 'viewer', number>]
> = [
	['view_workspace', 'GET', '', undefined, { owner: 200, editor: 200, viewer: 200 }],
	['view_workspace', 'GET', '/members', undefined, { owner: 200, editor: 200, viewer: 200 }],
	['view_workspace', 'GET', '/state', undefined, { owner: 200, editor: 200, viewer: 200 }],
	['view_workspace', 'GET', '/users', undefined, { owner: 200, editor: 200, viewer: 200 }],
	['view_workspace', 'GET', '/token', undefined, { owner: 200, editor: 200, viewer: 200 }],
	[
		'invite_users',
		'POST',
		'/invite',
		{ email: 'n@example.com', role: 'viewer' },
		{ owner: 200, editor: 403, viewer: 403 }
	],
	[
		'manage_permissions',
		'PATCH',
		'',
		{ name: 'Renamed' },
		{ owner: 200, editor: 403, viewer: 403 }
	],
	[
		'manage_permissions',
		'PATCH',
		'/members/:owner',
		{ role: 'owner' },
		{ owner: 200, editor: 403, viewer: 403 }
	]
];

describe('permissions over HTTP', () => {
	for (const [permission, method, suffix, body, expected] of MATRIX) {
		for (const role of ['owner', 'editor', 'viewer'] as const) {
			it(`[API3] ${role} ${method} …${suffix || '/'} (${permission}) → ${expected[role]}`, async () => {
				const client = as[role];
				if (!client) throw new Error('missing client');
				const reply = await client.request(
					method,
					`/api/workspaces/${team.workspace}${suffix.replace(':owner', team.ownerId)}`,
					body
				);
				expect(reply.status).toBe(expected[role]);
			});
		}
	}
});
