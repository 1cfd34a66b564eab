// Who is in the workspace, from the live document's awareness. The relay stamps
// every state with `user: {id, name, color, role}`; one person may have several
// tabs (client ids), shown once. Joins and leaves are reported, but not the
// churn of our own reconnects.

import { VIEWS, type View } from '$shared/docs.ts';
import { isRole, type Role } from '$shared/roles.ts';
import type { Awareness } from 'y-protocols/awareness';
import type { DocConnection } from '../sync/connection.svelte.ts';

export interface Person {
	readonly id: string;
	readonly name: string;
	readonly color: string;
	readonly role: Role;
	readonly view: View;
	/** The hyperparameter (or other field) they are editing now. */
	readonly field: string | null;
	readonly self: boolean;
}

export interface StampedUser {
	readonly id: string;
	readonly name: string;
	readonly color: string;
	readonly role: Role;
}

export function stampedUser(state: Record<string, unknown>): StampedUser | null {
	const u = state.user;
	if (typeof u !== 'object' || u === null) return null;
	const { id, name, color, role } = u as Record<string, unknown>;
	if (typeof id !== 'string' || typeof name !== 'string') return null;
	return {
		id,
		name,
		color: typeof color === 'string' ? color : '#6c757d',
		role: isRole(role) ? role : 'viewer'
	};
}

function toView(value: unknown): View {
	return (VIEWS as readonly unknown[]).includes(value) ? (value as View) : 'dashboard';
}

export interface PresenceEvents {
	joined(person: Person): void;
	left(person: Person): void;
}

export class Presence {
	people = $state.raw<Person[]>([]);
	private readonly live: DocConnection;
	private readonly me: () => Person;
	private readonly events: PresenceEvents;
	// eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
	private known: ReadonlyMap<string, Person> = new Map<string, Person>();
	private baselineTaken = false;

	constructor(live: DocConnection, me: () => Person, events: PresenceEvents) {
		this.live = live;
		this.me = me;
		this.events = events;
		this.awareness.on('change', this.update);
		live.provider.on('sync', this.onSync);
		live.provider.on('status', this.onStatus);
		this.update();
	}

	get awareness(): Awareness {
		return this.live.provider.awareness;
	}

	/** Others (not this tab), one entry per person. */
	others(): ReadonlyMap<string, Person> {
		// eslint-disable-next-line svelte/prefer-svelte-reactivity -- a fresh snapshot each time
		const out = new Map<string, Person>();
		const myId = this.me().id;
		for (const [client, state] of this.awareness.getStates()) {
			if (client === this.awareness.clientID) continue;
			const user = stampedUser(state);
			if (!user || user.id === myId || out.has(user.id)) continue;
			out.set(user.id, {
				...user,
				view: toView(state.current_view),
				field: typeof state.field === 'string' ? state.field : null,
				self: false
			});
		}
		return out;
	}

	/** Until the next sync, states arriving are who was already here, not news. */
	private readonly onStatus = ({ status }: { status: string }): void => {
		if (status !== 'connected') this.baselineTaken = false;
	};

	private readonly onSync = (synced: boolean): void => {
		if (!synced) return;
		// Whoever is here when we first sync was already here: no toasts for them.
		// After a reconnect, quietly forget who left while we were away.
		this.known = this.others();
		this.baselineTaken = true;
	};

	private readonly update = (): void => {
		const others = this.others();
		this.people = [this.me(), ...others.values()];
		// While disconnected y-websocket drops everyone: that is us leaving, not them.
		if (!this.live.provider.wsconnected || !this.baselineTaken) return;
		for (const [id, person] of others) if (!this.known.has(id)) this.events.joined(person);
		for (const [id, person] of this.known) if (!others.has(id)) this.events.left(person);
		this.known = others;
	};

	/** Re-reads our own entry (view or role changed). */
	refresh(): void {
		this.update();
	}

	destroy(): void {
		this.awareness.off('change', this.update);
		this.live.provider.off('sync', this.onSync);
		this.live.provider.off('status', this.onStatus);
	}
}
