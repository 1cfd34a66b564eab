import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTeam, startTestServer, type Team, type TestServer } from '../helpers/server.ts';
import type { ErrorReply } from '../helpers/http.ts';

let s: TestServer;
let team: Team;
let memberId: string;
beforeAll(async () => {
	s = await startTestServer({ memory: true });
	team = await makeTeam(s);
	memberId = (await team.add('Ed', 'editor')).id;
});
afterAll(async () => {
	await s.close();
});

type Case = [method: string, path: string, body: unknown, field: RegExp];

/** Paths are written with :ws and :member, filled in once the team exists. */
const fill = (path: string) =>
	path.replace(':ws', `/api/workspaces/${team.workspace}`).replace(':member', memberId);

const BAD_INPUT: Case[] = [
	['POST', '/api/auth/signup', { email: 'a@example.com', password: 'long enough' }, /name/],
	[
		'POST',
		'/api/auth/signup',
		{ name: 'A', email: 'not-an-email', password: 'long enough' },
		/email/
	],
	[
		'POST',
		'/api/auth/signup',
		{ name: 'A', email: 'a@example.com', password: 'short' },
		/password/
	],
	[
		'POST',
		'/api/auth/signup',
		{ name: '   ', email: 'a@example.com', password: 'long enough' },
		/name/
	],
	['POST', '/api/auth/signup', { name: 'A', email: 'a@example.com', password: 42 }, /password/],
	['POST', '/api/auth/login', { email: 'a@example.com' }, /password/],
	['POST', '/api/auth/login', { email: 7, password: 'x' }, /email/],
	['POST', '/api/workspaces', {}, /name/],
	['POST', '/api/workspaces', { name: 'x'.repeat(101) }, /name/],
	['POST', '/api/workspaces', { name: ['x'] }, /name/],
	['PATCH', ':ws', { name: '' }, /name/],
	['GET', '/api/workspaces/bad%20id!/state', undefined, /id/],
	['PATCH', ':ws/members/:member', { role: 'admin' }, /role/],
	['PATCH', ':ws/members/:member', {}, /role/],
	['PATCH', ':ws/members/bad%20user', { role: 'viewer' }, /userId/],
	['POST', ':ws/invite', { email: 'nope', role: 'viewer' }, /email/],
	['POST', ':ws/invite', { email: 'a@example.com', role: 'king' }, /role/],
	[
		'POST',
		':ws/invite',
		{ email: 'a@example.com', role: 'viewer', expires_in_days: 0 },
		/expires_in_days/
	],
	[
		'POST',
		':ws/invite',
		{ email: 'a@example.com', role: 'viewer', expires_in_days: 1.5 },
		/expires_in_days/
	],
	['POST', ':ws/join', undefined, /token/]
];

const ENDPOINTS: Array<[string, string]> = [
	['GET', '/api/me'],
	['GET', '/api/workspaces'],
	['POST', '/api/workspaces'],
	['GET', ':ws'],
	['PATCH', ':ws'],
	['DELETE', ':ws'],
	['GET', ':ws/members'],
	['PATCH', ':ws/members/:member'],
	['DELETE', ':ws/members/:member'],
	['GET', ':ws/token'],
	['GET', ':ws/users'],
	['GET', ':ws/state'],
	['POST', ':ws/invite'],
	['POST', ':ws/join?token=abc']
];

describe('input validation', () => {
	for (const [method, path, body, field] of BAD_INPUT) {
		it(`[API2] ${method} ${path} ${JSON.stringify(body)} is a 400 naming ${field.source}`, async () => {
			const reply = await team.owner.request<ErrorReply>(method, fill(path), body);
			expect(reply.status, JSON.stringify(reply.body)).toBe(400);
			expect(reply.body.error.code).toBe('invalid_request');
			expect(reply.body.error.message).toMatch(field);
		});
	}

	it('[API2] a malformed JSON body is a 400, a form body a 415, never a 500', async () => {
		const broken = await team.owner.request<ErrorReply>('POST', '/api/workspaces', '{"name": ', {
			'content-type': 'application/json'
		});
		expect(broken.status).toBe(400);
		expect(broken.body.error.message).toMatch(/JSON/);
		const text = await fetch(`${s.url}/api/workspaces`, {
			method: 'POST',
			headers: {
				'content-type': 'application/x-www-form-urlencoded',
				cookie: team.owner.cookie ?? ''
			},
			body: 'name=x'
		});
		expect(text.status).toBe(415);
		expect(((await text.json()) as ErrorReply).error.code).toBe('unsupported_media_type');
	});

	it('[API2] unknown API routes are a JSON 404', async () => {
		const reply = await team.owner.get<ErrorReply>('/api/nothing/here');
		expect(reply.status).toBe(404);
		expect(reply.body.error.code).toBe('not_found');
	});
});

describe('authentication on every endpoint', () => {
	for (const [method, path] of ENDPOINTS) {
		it(`[API3] ${method} ${path} without a session is 401`, async () => {
			const body =
				method === 'GET' || method === 'DELETE'
					? undefined
					: { name: 'x', role: 'viewer', email: 'a@example.com' };
			const reply = await s.client().request<ErrorReply>(method, fill(path), body);
			expect(reply.status).toBe(401);
			expect(reply.body.error.code).toBe('unauthenticated');
		});
	}
});

describe('schemas compiled on first use', () => {
	it('[API13] every route validator and serializer compiles, and a route checks its input on its first request', async () => {
		// A fresh server: its routes have not been called, so nothing is generated yet.
		const fresh = await startTestServer({ memory: true });
		try {
			const first = await fresh.client().post<ErrorReply>('/api/auth/signup', {
				name: 'A',
				email: 'nope',
				password: 'long enough'
			});
			expect(first.status).toBe(400);
			expect(first.body.error.message).toMatch(/email/);
			// Generates the rest; a schema Ajv or fast-json-stringify rejects would throw here.
			expect(fresh.app.compileSchemas()).toBeGreaterThan(50);
		} finally {
			await fresh.close();
		}
	});
});

describe('OpenAPI', () => {
	it('[API1] /api/openapi.json describes every route', async () => {
		const reply = await s
			.client()
			.get<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
				'/api/openapi.json'
			);
		expect(reply.status).toBe(200);
		expect(reply.body.openapi).toMatch(/^3\./);
		const routes = Object.entries(reply.body.paths).flatMap(([path, ops]) =>
			Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)
		);
		for (const route of [
			'POST /api/auth/signup',
			'POST /api/auth/login',
			'POST /api/auth/logout',
			'GET /api/me',
			'POST /api/workspaces',
			'GET /api/workspaces',
			'GET /api/workspaces/{id}',
			'PATCH /api/workspaces/{id}',
			'DELETE /api/workspaces/{id}',
			'GET /api/workspaces/{id}/members',
			'PATCH /api/workspaces/{id}/members/{userId}',
			'DELETE /api/workspaces/{id}/members/{userId}',
			'GET /api/workspaces/{id}/token',
			'GET /api/workspaces/{id}/users',
			'GET /api/workspaces/{id}/state',
			'POST /api/workspaces/{id}/invite',
			'POST /api/workspaces/{id}/join',
			'GET /healthz',
			'GET /readyz',
			'GET /metrics'
		]) {
			expect(routes).toContain(route);
		}
	});
});
