// Who is signed in. Cached locally so a workspace opened before still opens
// offline; the server's answer wins whenever it can be reached.

import { api, ApiError, type Account, type WorkspaceSummary } from './api.ts';
import { clearLocalData, readLocal, writeLocal } from './local.ts';
import { isRole } from '$shared/roles.ts';

function isAccount(v: unknown): v is Account {
	return (
		typeof v === 'object' &&
		v !== null &&
		typeof (v as Account).id === 'string' &&
		typeof (v as Account).name === 'string'
	);
}

function isWorkspaceList(v: unknown): v is WorkspaceSummary[] {
	return (
		Array.isArray(v) &&
		v.every(
			(w: unknown) =>
				typeof w === 'object' &&
				w !== null &&
				typeof (w as WorkspaceSummary).id === 'string' &&
				isRole((w as WorkspaceSummary).role)
		)
	);
}

class Session {
	user = $state<Account | null>(readLocal('account', isAccount));
	/** True once the server answered (or could not be reached and the cache was used). */
	checked = $state(false);
	offline = $state(false);
	workspaces = $state<WorkspaceSummary[]>(readLocal('workspaces', isWorkspaceList) ?? []);

	async refresh(): Promise<Account | null> {
		try {
			this.setUser(await api.me());
			this.offline = false;
		} catch (err) {
			if (!(err instanceof ApiError)) throw err;
			if (err.offline || err.status >= 500) this.offline = true;
			else this.setUser(null);
		}
		this.checked = true;
		return this.user;
	}

	setUser(user: Account | null): void {
		this.user = user;
		writeLocal('account', user);
	}

	async loadWorkspaces(): Promise<WorkspaceSummary[]> {
		const list = await api.workspaces();
		this.setWorkspaces(list);
		return list;
	}

	setWorkspaces(list: WorkspaceSummary[]): void {
		this.workspaces = list;
		writeLocal('workspaces', list);
	}

	rememberWorkspace(w: WorkspaceSummary): void {
		this.setWorkspaces([w, ...this.workspaces.filter((x) => x.id !== w.id)]);
	}

	workspace(id: string): WorkspaceSummary | undefined {
		return this.workspaces.find((w) => w.id === id);
	}

	/** Signs out and removes every local copy, so a shared computer keeps nothing. */
	async signOut(): Promise<void> {
		try {
			await api.logout();
		} finally {
			this.user = null;
			this.workspaces = [];
			await clearLocalData();
		}
	}
}

export const session = new Session();
