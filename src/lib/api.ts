// The HTTP API as the app uses it (issue 2's shapes). Every call is same-origin
// with the session cookie; errors come back as ApiError with the server's words.

import { isRole, type Role } from '$shared/roles.ts';

export interface Account {
	readonly id: string;
	readonly name: string;
	readonly email: string;
}

export interface WorkspaceSummary {
	readonly id: string;
	readonly name: string;
	readonly role: Role;
}

export interface MemberInfo {
	readonly id: string;
	readonly name: string;
	readonly email: string;
	readonly role: Role;
}

export interface InviteResult {
	readonly invite_token: string;
	readonly invite_url: string;
}

export interface InvitePreview {
	readonly workspaceName: string;
	readonly invitedBy: string;
	readonly role: Role;
	readonly email: string;
}

/** What a call that could not reach the server says (never the browser's "Failed to fetch"). */
export const OFFLINE_MESSAGE =
	'You are offline or the server cannot be reached: try again when you are back online.';

/** A failed call: `status` 0 means the network failed (offline, server down). */
export class ApiError extends Error {
	readonly status: number;
	readonly code: string;
	/** Seconds the server asked to wait before trying again (429), or 0. */
	readonly retryAfter: number;
	constructor(status: number, code: string, message: string, retryAfter = 0) {
		super(message);
		this.status = status;
		this.code = code;
		this.retryAfter = retryAfter;
	}
	get offline(): boolean {
		return this.status === 0;
	}
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
	return typeof value === 'object' && value !== null;
}

export async function request(method: string, path: string, body?: unknown): Promise<Json> {
	let response: Response;
	try {
		response = await fetch(path, {
			method,
			credentials: 'same-origin',
			headers: body === undefined ? {} : { 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
	} catch (err) {
		console.warn(`ensemble: ${method} ${path} did not reach the server`, err);
		throw new ApiError(0, 'network', OFFLINE_MESSAGE);
	}
	const text = await response.text();
	let data: unknown = {};
	if (text) {
		try {
			data = JSON.parse(text);
		} catch {
			data = { error: { code: 'bad_response', message: text.slice(0, 200) } };
		}
	}
	if (!response.ok) {
		const error = isObject(data) && isObject(data.error) ? data.error : {};
		const message =
			typeof error.message === 'string'
				? error.message
				: `${response.status} ${response.statusText}`;
		throw new ApiError(
			response.status,
			typeof error.code === 'string' ? error.code : 'http',
			message,
			Number(response.headers.get('retry-after')) || 0
		);
	}
	return isObject(data) ? data : {};
}

function str(value: unknown, fallback = ''): string {
	return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : fallback;
}

function toAccount(value: unknown): Account {
	const v = isObject(value) ? value : {};
	return { id: str(v.id), name: str(v.name), email: str(v.email) };
}

function toRole(value: unknown): Role {
	return isRole(value) ? value : 'viewer';
}

function toWorkspace(value: unknown): WorkspaceSummary {
	const v = isObject(value) ? value : {};
	return { id: str(v.id), name: str(v.name), role: toRole(v.role) };
}

function toMember(value: unknown): MemberInfo {
	const v = isObject(value) ? value : {};
	const user = isObject(v.user) ? v.user : v;
	return {
		id: str(v.user_id ?? v.userId ?? user.id),
		name: str(user.name),
		email: str(user.email),
		role: toRole(v.role)
	};
}

const ws = (id: string) => `/api/workspaces/${encodeURIComponent(id)}`;

export const api = {
	async signup(name: string, email: string, password: string): Promise<Account> {
		return toAccount((await request('POST', '/api/auth/signup', { name, email, password })).user);
	},
	async login(email: string, password: string): Promise<Account> {
		return toAccount((await request('POST', '/api/auth/login', { email, password })).user);
	},
	async logout(): Promise<void> {
		await request('POST', '/api/auth/logout');
	},
	async me(): Promise<Account> {
		const data = await request('GET', '/api/me');
		return toAccount(data.user ?? data);
	},
	async workspaces(): Promise<WorkspaceSummary[]> {
		const list = (await request('GET', '/api/workspaces')).workspaces;
		return Array.isArray(list) ? list.map(toWorkspace) : [];
	},
	async createWorkspace(name: string): Promise<WorkspaceSummary> {
		return toWorkspace((await request('POST', '/api/workspaces', { name })).workspace);
	},
	async members(id: string): Promise<MemberInfo[]> {
		const list = (await request('GET', `${ws(id)}/members`)).members;
		return Array.isArray(list) ? list.map(toMember) : [];
	},
	async setRole(id: string, userId: string, role: Role): Promise<void> {
		await request('PATCH', `${ws(id)}/members/${encodeURIComponent(userId)}`, { role });
	},
	async removeMember(id: string, userId: string): Promise<void> {
		await request('DELETE', `${ws(id)}/members/${encodeURIComponent(userId)}`);
	},
	async invite(
		id: string,
		email: string,
		role: Role,
		expiresInDays: number
	): Promise<InviteResult> {
		const data = await request('POST', `${ws(id)}/invite`, {
			email,
			role,
			expires_in_days: expiresInDays
		});
		return { invite_token: str(data.invite_token), invite_url: str(data.invite_url) };
	},
	/** What an invitation is for; no sign-in needed (the token is the credential). */
	async invitePreview(id: string, token: string): Promise<InvitePreview> {
		const data = await request(
			'GET',
			`${ws(id)}/invite-preview?token=${encodeURIComponent(token)}`
		);
		const workspace = isObject(data.workspace) ? data.workspace : {};
		return {
			workspaceName: str(workspace.name),
			invitedBy: str(data.invited_by),
			role: toRole(data.role),
			email: str(data.email)
		};
	},
	async join(id: string, token: string): Promise<Role> {
		const data = await request('POST', `${ws(id)}/join?token=${encodeURIComponent(token)}`);
		return toRole(data.role);
	},
	/** `messageId` makes a retry of a message whose answer was lost a no-op on the server. */
	async chat(id: string, text: string, messageId: string, writtenAt: number): Promise<void> {
		await request('POST', `${ws(id)}/chat`, { text, id: messageId, written_at: writtenAt });
	}
};
