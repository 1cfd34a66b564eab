// Starts the real server (HTTP API, relay, upgrade) on port 0 with a temporary
// DATA_DIR, and builds the people and workspaces a test needs.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type StartOptions } from '../../server/main.ts';
import type { Clock } from '../../server/runtime.ts';
import { ApiClient } from './http.ts';

export interface TestServer extends RunningServer {
	readonly dataDir: string;
	/** ws://… base of the server. */
	readonly wsUrl: string;
	/** A new HTTP client with its own cookie jar. */
	client(): ApiClient;
}

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/**
 * `memory: true` uses the in-memory store (fast, nothing on disk); otherwise
 * SQLite in a fresh temporary directory, removed on close.
 */
export async function startTestServer(
	options: StartOptions & { memory?: boolean } = {}
): Promise<TestServer> {
	const { memory, ...rest } = options;
	const dataDir = rest.dataDir ?? (await mkdtemp(join(tmpdir(), 'ensemble-test-')));
	const ownsDir = rest.dataDir === undefined;
	let server: RunningServer;
	try {
		server = await startServer({
			env: {},
			port: 0,
			host: '127.0.0.1',
			logLevel: (process.env.TEST_LOG_LEVEL as StartOptions['logLevel']) ?? 'silent',
			secret: TEST_SECRET,
			storage: memory ? 'memory' : undefined,
			...rest,
			dataDir
		});
	} catch (err) {
		if (ownsDir) await rm(dataDir, { recursive: true, force: true });
		throw err;
	}
	return {
		...server,
		dataDir,
		wsUrl: server.url.replace(/^http/, 'ws'),
		client: () => new ApiClient(server.url),
		async close() {
			await server.close();
			if (ownsDir) await rm(dataDir, { recursive: true, force: true });
		}
	};
}

/** A clock tests move forward by hand (expiry of invitations, sessions, tokens). */
export class ManualClock implements Clock {
	offset = 0;
	now(): number {
		return Date.now() + this.offset;
	}
	advance(ms: number): void {
		this.offset += ms;
	}
}

let counter = 0;

/** A unique e-mail address for this test run. */
export function email(name: string): string {
	counter += 1;
	return `${name.toLowerCase()}.${counter}.${process.pid}@example.com`;
}

export interface Team {
	readonly workspace: string;
	readonly owner: ApiClient;
	readonly ownerId: string;
	/** Signs someone up and adds them with `role` through a real invitation. */
	add(name: string, role: 'editor' | 'viewer'): Promise<{ client: ApiClient; id: string }>;
}

/** An owner with a fresh workspace. */
export async function makeTeam(server: TestServer, ownerName = 'Olivia'): Promise<Team> {
	const owner = server.client();
	const me = await owner.signup(ownerName, email(ownerName));
	const workspace = (await owner.createWorkspace()).id;
	return {
		workspace,
		owner,
		ownerId: me.id,
		async add(name, role) {
			const client = server.client();
			const user = await client.signup(name, email(name));
			const token = await owner.invite(workspace, user.email, role);
			const joined = await client.join(workspace, token);
			if (joined.status !== 200) throw new Error(`join failed: ${JSON.stringify(joined.body)}`);
			return { client, id: user.id };
		}
	};
}
