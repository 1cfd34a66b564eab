// Shared steps of the training integration tests: set hyperparameters and code
// through a real Yjs client, upload a CSV, and wait for a run's status in `live`.

import * as Y from 'yjs';
import type { ApiClient, Reply } from '../helpers/http.ts';
import type { TestServer } from '../helpers/server.ts';
import { connectPeer, docReaches, synced, type Peer } from '../helpers/yjs.ts';
import type { RunRecord } from '../../server/protocol/training.ts';

/** Writes hyperparameters (and optionally code files) as an editor would, and waits until stored. */
export async function setWorkspace(
	server: TestServer,
	client: ApiClient,
	workspace: string,
	hp: Record<string, unknown>,
	files: Record<string, string> = {}
): Promise<void> {
	const params = await connectPeer(server, client, workspace, 'params');
	const code = await connectPeer(server, client, workspace, 'code');
	try {
		await Promise.all([synced(params), synced(code)]);
		params.doc.transact(() => {
			const map = params.doc.getMap('hyperparameters');
			for (const [k, v] of Object.entries(hp)) map.set(k, v);
		});
		code.doc.transact(() => {
			const map = code.doc.getMap<Y.Text>('files');
			for (const [name, text] of Object.entries(files)) map.set(name, new Y.Text(text));
		});
		// The server's own view, through the API, is what a run will copy.
		const deadline = Date.now() + 5000;
		for (;;) {
			const reply = await client.get<{ hyperparameters: Record<string, unknown> }>(
				`/api/workspaces/${workspace}/hyperparameters`
			);
			const codeReply = await client.get<{ files: Record<string, string> }>(
				`/api/workspaces/${workspace}/code`
			);
			const hpDone = Object.entries(hp).every(
				([k, v]) => JSON.stringify(reply.body.hyperparameters[k]) === JSON.stringify(v)
			);
			const codeDone = Object.entries(files).every(([k, v]) => codeReply.body.files[k] === v);
			if (hpDone && codeDone) return;
			if (Date.now() > deadline) throw new Error('hyperparameters never reached the server');
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
	} finally {
		params.destroy();
		code.destroy();
	}
}

export function runOf(doc: Y.Doc, id: string): RunRecord | null {
	const entry = doc.getMap<Y.Map<unknown>>('runs').get(id);
	return entry ? (entry.toJSON() as RunRecord) : null;
}

/** A stock Yjs client on the workspace's `live` document. */
export async function watchLive(
	server: TestServer,
	client: ApiClient,
	workspace: string
): Promise<Peer> {
	const peer = await connectPeer(server, client, workspace, 'live');
	await synced(peer);
	return peer;
}

export function statusReaches(live: Peer, id: string, status: string, ms = 20_000): Promise<void> {
	return docReaches(
		live.doc,
		(doc) => runOf(doc, id)?.status === status,
		`run ${id} ${status}`,
		ms
	);
}

export async function upload(
	server: TestServer,
	client: ApiClient,
	workspace: string,
	name: string,
	content: string | Uint8Array,
	field = 'file'
): Promise<Reply<unknown>> {
	const form = new FormData();
	form.append(
		field,
		new Blob([typeof content === 'string' ? content : new Uint8Array(content)]),
		name
	);
	const res = await fetch(`${server.url}/api/workspaces/${workspace}/datasets`, {
		method: 'POST',
		headers: client.cookie ? { cookie: client.cookie } : {},
		body: form
	});
	const text = await res.text();
	return {
		status: res.status,
		body: text ? (JSON.parse(text) as unknown) : null,
		headers: res.headers
	};
}

export interface StartBody {
	run: RunRecord;
	queued: boolean;
	position: number;
	message: string;
}

/** The body of a start on the built-in TensorFlow.js model (the default is the server's sandbox). */
export const BUILTIN = { runner: 'builtin' } as const;

/** A new API key of the workspace, made by an owner or editor. */
export async function apiKey(client: ApiClient, workspace: string, name: string): Promise<string> {
	const reply = await client.post<{ key: string }>(`/api/workspaces/${workspace}/api-keys`, {
		name
	});
	return reply.body.key;
}
