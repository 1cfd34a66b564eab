// History's endpoints as the app calls them (issue 13): the activity feed, the
// changes for the time slider, a past moment, restore. Errors carry the server's words.

import { request } from '../api.ts';

export interface ActivityEntry {
	id: string;
	at: string;
	user: { id: string; name: string } | null;
	kind: string;
	summary: string;
	data: Record<string, unknown>;
}

export interface Change {
	doc: 'params' | 'code';
	seq: number;
	at: string;
	user: { id: string; name: string } | null;
}

export interface PastState {
	at: string;
	hyperparameters: Record<string, unknown>;
	config: Record<string, unknown>;
	files: Record<string, string>;
}

/** The app's one request function; the shapes are the server's (OpenAPI). */
async function call<T>(method: string, path: string, body?: object): Promise<T> {
	return (await request(method, path, body)) as T;
}

const base = (id: string) => `/api/workspaces/${encodeURIComponent(id)}`;

export const historyApi = {
	async activity(
		id: string,
		filter: { user?: string; kind?: string; limit?: number } = {}
	): Promise<ActivityEntry[]> {
		const q = new URLSearchParams({ limit: String(filter.limit ?? 100) });
		if (filter.user) q.set('user', filter.user);
		if (filter.kind) q.set('kind', filter.kind);
		return (await call<{ entries: ActivityEntry[] }>('GET', `${base(id)}/activity?${q}`)).entries;
	},
	async changes(id: string): Promise<{ changes: Change[]; created_at: string }> {
		return call('GET', `${base(id)}/history/changes?limit=2000`);
	},
	async at(id: string, at: string): Promise<PastState> {
		return call('GET', `${base(id)}/history?at=${encodeURIComponent(at)}`);
	},
	async restore(
		id: string,
		at: string,
		scope: 'hyperparameters' | 'files' | 'file',
		file?: string
	): Promise<{ changed: string[] }> {
		return call('POST', `${base(id)}/restore`, { at, scope, ...(file ? { file } : {}) });
	},
	transcriptUrl(id: string): string {
		return `${base(id)}/transcript?format=md`;
	}
};

/** Kinds a person filters by, in words. */
export const KIND_GROUPS: ReadonlyArray<{ label: string; kinds: string }> = [
	{ label: 'Everything', kinds: '' },
	{ label: 'Hyperparameters', kinds: 'hyperparameter,config' },
	{ label: 'Code', kinds: 'file_added,file_renamed,file_deleted,file_edited' },
	{ label: 'Runs', kinds: 'run_started,run_finished' },
	{ label: 'Data', kinds: 'dataset_uploaded' },
	{ label: 'Members', kinds: 'member_joined,member_left,role_changed' },
	{ label: 'Annotations', kinds: 'annotation_added' },
	{ label: 'Restores', kinds: 'restored' }
];
