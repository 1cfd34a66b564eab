// Everything one open workspace needs in the page: its documents, presence,
// my role and view, and follow mode. Components get this one object.

import * as Y from 'yjs';
import { schema, type View } from '$shared/docs.ts';
import { hasPermission, type Permission, type Role } from '$shared/roles.ts';
import { userColor } from '$shared/colors.ts';
import type { Account } from '../api.ts';
import { toasts } from '../toasts.svelte.ts';
import { WorkspaceConnection } from '../sync/workspace.svelte.ts';
import { Presence, type Person } from './presence.svelte.ts';

export class WorkspaceModel {
	readonly id: string;
	readonly me: Account;
	readonly conn: WorkspaceConnection;
	readonly presence: Presence;
	name = $state('');
	role = $state<Role>('viewer');
	view = $state<View>('dashboard');
	/** The person whose view and cursor we follow, or null. */
	following = $state<string | null>(null);
	field: string | null = null;

	constructor(id: string, me: Account, role: Role, name: string) {
		this.id = id;
		this.me = me;
		this.role = role;
		this.name = name;
		this.conn = new WorkspaceConnection(id);
		this.presence = new Presence(this.conn.live, () => this.self(), {
			joined: (p) =>
				toasts.show(`${p.name} joined the workspace`, { color: p.color, notify: true }),
			left: (p) => {
				if (this.following === p.id) this.stopFollowing();
				toasts.show(`${p.name} left the workspace`, { color: p.color, notify: true });
			}
		});
		this.liveAwareness.setLocalState({ current_view: this.view, field: null });
	}

	private self(): Person {
		return {
			id: this.me.id,
			name: this.me.name,
			color: userColor(this.me.id),
			role: this.role,
			view: this.view,
			field: this.field,
			following: this.following,
			self: true,
			online: this.conn.online
		};
	}

	get liveAwareness() {
		return this.conn.live.provider.awareness;
	}

	get codeAwareness() {
		return this.conn.code.provider.awareness;
	}

	get hyperparameters(): Y.Map<unknown> {
		return this.conn.params.doc.getMap(schema.params.hyperparameters);
	}

	get config(): Y.Map<unknown> {
		return this.conn.params.doc.getMap(schema.params.config);
	}

	get files(): Y.Map<Y.Text> {
		return this.conn.code.doc.getMap(schema.code.files);
	}

	get chat(): Y.Array<unknown> {
		return this.conn.live.doc.getArray(schema.live.chat);
	}

	/** Whether my role allows it (the server has the last word: see `readOnly`). */
	can(permission: Permission): boolean {
		return hasPermission(this.role, permission);
	}

	/**
	 * Whether my edits to `doc` can reach the server: my role allows it, the server
	 * has not refused it, and the connection was not closed for good.
	 */
	canWrite(doc: 'params' | 'code'): boolean {
		const permission = doc === 'params' ? 'edit_hyperparameters' : 'edit_code';
		return this.can(permission) && !this.conn[doc].readOnly && !this.conn.closed;
	}

	setView(view: View): void {
		if (this.view === view) return;
		this.view = view;
		this.liveAwareness.setLocalStateField('current_view', view);
		this.presence.refresh();
	}

	setField(field: string | null): void {
		this.field = field;
		this.liveAwareness.setLocalStateField('field', field);
	}

	follow(personId: string): void {
		this.following = personId === this.me.id ? null : personId;
		// The followed person sees who follows them.
		this.liveAwareness.setLocalStateField('following', this.following);
	}

	/** Any action of my own stops following (issue 4). */
	stopFollowing(): void {
		if (!this.following) return;
		this.following = null;
		this.liveAwareness.setLocalStateField('following', null);
	}

	destroy(): void {
		this.presence.destroy();
		this.conn.destroy();
	}
}
