// A small HTTP client for the API that keeps the session cookie, like a browser.

export interface Reply<T = unknown> {
	readonly status: number;
	readonly body: T;
	readonly headers: Headers;
}

export interface ErrorReply {
	error: { code: string; message: string };
}

export interface UserBody {
	user: { id: string; name: string; email: string; color: string };
}

export interface WorkspaceBody {
	workspace: { id: string; name: string; role: 'owner' | 'editor' | 'viewer'; created_at: string };
}

export class ApiClient {
	readonly baseUrl: string;
	cookie: string | null = null;
	/** Set-Cookie of the last response that had one (for asserting its attributes). */
	lastSetCookie: string | null = null;

	constructor(baseUrl: string) {
		this.baseUrl = baseUrl;
	}

	async request<T = unknown>(
		method: string,
		path: string,
		body?: unknown,
		headers: Record<string, string> = {}
	): Promise<Reply<T>> {
		const init: RequestInit = { method, headers: { ...headers } };
		const h = init.headers as Record<string, string>;
		if (this.cookie) h.cookie = this.cookie;
		if (body !== undefined) {
			h['content-type'] = 'application/json';
			init.body = typeof body === 'string' ? body : JSON.stringify(body);
		}
		const res = await fetch(this.baseUrl + path, init);
		const setCookie = res.headers.getSetCookie();
		if (setCookie.length > 0) {
			this.lastSetCookie = setCookie[0] ?? null;
			const pair = (setCookie[0] ?? '').split(';')[0] ?? '';
			this.cookie = pair.endsWith('=') ? null : pair;
		}
		const text = await res.text();
		const parsed: unknown =
			text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
		return { status: res.status, body: parsed as T, headers: res.headers };
	}

	get<T = unknown>(path: string) {
		return this.request<T>('GET', path);
	}
	post<T = unknown>(path: string, body?: unknown) {
		return this.request<T>('POST', path, body);
	}
	patch<T = unknown>(path: string, body?: unknown) {
		return this.request<T>('PATCH', path, body);
	}
	delete<T = unknown>(path: string) {
		return this.request<T>('DELETE', path);
	}

	/** Signs up and keeps the session; throws unless 201. */
	async signup(
		name: string,
		email: string,
		password = 'correct horse battery'
	): Promise<UserBody['user']> {
		const reply = await this.post<UserBody>('/api/auth/signup', { name, email, password });
		if (reply.status !== 201)
			throw new Error(`signup failed: ${reply.status} ${JSON.stringify(reply.body)}`);
		return reply.body.user;
	}

	async createWorkspace(name = 'Experiments'): Promise<WorkspaceBody['workspace']> {
		const reply = await this.post<WorkspaceBody>('/api/workspaces', { name });
		if (reply.status !== 201) throw new Error(`create workspace failed: ${reply.status}`);
		return reply.body.workspace;
	}

	async wsToken(workspace: string): Promise<string> {
		const reply = await this.get<{ token: string }>(`/api/workspaces/${workspace}/token`);
		if (reply.status !== 200)
			throw new Error(`token failed: ${reply.status} ${JSON.stringify(reply.body)}`);
		return reply.body.token;
	}

	/** Invites and returns the token (as the owner). */
	async invite(workspace: string, email: string, role: 'editor' | 'viewer'): Promise<string> {
		const reply = await this.post<{ invite_token: string }>(`/api/workspaces/${workspace}/invite`, {
			email,
			role
		});
		if (reply.status !== 200)
			throw new Error(`invite failed: ${reply.status} ${JSON.stringify(reply.body)}`);
		return reply.body.invite_token;
	}

	async join(
		workspace: string,
		token: string
	): Promise<Reply<{ status: string; role: string } | ErrorReply>> {
		return this.post(`/api/workspaces/${workspace}/join?token=${encodeURIComponent(token)}`);
	}
}
