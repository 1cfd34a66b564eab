// Who is in the workspace, from the live document's awareness. The relay stamps
// every state with `user: {id, name, color, role}`; one person may have several
// tabs (client ids), shown once. Joins and leaves are reported, but not the
// churn of our own reconnects.

import { VIEWS, type View } from '$shared/docs.ts';
import { joinCallStates, type CallState } from '$shared/call.ts';
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
	/** The person they follow, or null. */
	readonly following: string | null;
	readonly self: boolean;
	/** False for a moment after they dropped off (they may be reconnecting). */
	readonly online: boolean;
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

/** The `call` field of a person's presence: in the call (muted, camera, sharing), or null. */
function toCallState(value: unknown): CallState | null {
	if (typeof value !== 'object' || value === null) return null;
	const { muted, camera, sharing } = value as Record<string, unknown>;
	return { muted: muted === true, camera: camera === true, sharing: sharing === true };
}

function toView(value: unknown): View {
	return (VIEWS as readonly unknown[]).includes(value) ? (value as View) : 'dashboard';
}

export interface PresenceEvents {
	joined(person: Person): void;
	left(person: Person): void;
}

/**
 * Someone who drops off is shown offline for this long before "left" is said: a
 * reload, a network blip or an old socket closing after its reconnect comes back
 * within it, and says nothing.
 */
export const LEAVE_GRACE_MS = 10_000;
/**
 * After our own (re)connect, who was already here: the relay sends everyone's
 * state before its sync reply, so they are all known when 'sync' fires. A longer
 * window swallowed the toast of someone who joined just after us.
 */
const BASELINE_MS = 0;

export class Presence {
	people = $state.raw<Person[]>([]);
	/**
	 * Who of the others is in the call, by user id, as their presence says: so that
	 * people outside the call see who is in it (those inside also learn it from the call).
	 */
	// eslint-disable-next-line svelte/prefer-svelte-reactivity -- replaced whole, never mutated
	calls = $state.raw<ReadonlyMap<string, CallState>>(new Map());
	private readonly live: DocConnection;
	private readonly me: () => Person;
	private readonly events: PresenceEvents;
	/** Others announced as present (or present when we arrived). */
	// eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
	private known = new Map<string, Person>();
	/** Others who dropped off less than LEAVE_GRACE_MS ago, with the timer that says "left". */
	// eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, rendered through `people`
	private readonly gone = new Map<
		string,
		{ person: Person; timer: ReturnType<typeof setTimeout> }
	>();
	private baselineTaken = false;
	private baselineTimer: ReturnType<typeof setTimeout> | null = null;

	constructor(live: DocConnection, me: () => Person, events: PresenceEvents) {
		this.live = live;
		this.me = me;
		this.events = events;
		this.awareness.on('change', this.update);
		live.provider.on('sync', this.onSync);
		live.provider.on('status', this.onStatus);
		// Synced before we listened (a fast server): 'sync' will not come again.
		if (live.provider.synced) this.onSync(true);
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
				following: typeof state.following === 'string' ? state.following : null,
				self: false,
				online: true
			});
		}
		return out;
	}

	private readonly onStatus = ({ status }: { status: string }): void => {
		if (status === 'connected') return;
		// We dropped: y-websocket forgets everyone. That is us leaving, not them.
		this.baselineTaken = false;
		if (this.baselineTimer) clearTimeout(this.baselineTimer);
		this.baselineTimer = null;
		this.clearGone();
		this.update();
	};

	private readonly onSync = (synced: boolean): void => {
		if (!synced || this.baselineTimer) return;
		// The others' states arrive around the sync: whoever shows up soon was already
		// here (no toasts), and whoever left while we were away is quietly forgotten.
		this.baselineTimer = setTimeout(() => {
			this.baselineTimer = null;
			// eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
			this.known = new Map(this.others());
			this.baselineTaken = true;
		}, BASELINE_MS);
	};

	private readonly update = (): void => {
		const others = this.others();
		if (this.live.provider.wsconnected && this.baselineTaken) {
			for (const [id, person] of others) {
				const back = this.gone.get(id);
				if (back) {
					clearTimeout(back.timer);
					this.gone.delete(id);
				} else if (!this.known.has(id)) {
					this.events.joined(person);
				}
			}
			for (const [id, person] of this.known) {
				if (!others.has(id) && !this.gone.has(id)) this.dropOff(person);
			}
			// eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
			this.known = new Map(others);
		}
		const offline = [...this.gone.values()].map((g) => ({ ...g.person, online: false }));
		this.people = [this.me(), ...others.values(), ...offline];
		this.calls = this.callStates();
	};

	private callStates(): ReadonlyMap<string, CallState> {
		// eslint-disable-next-line svelte/prefer-svelte-reactivity -- a fresh snapshot each time
		const out = new Map<string, CallState>();
		for (const [client, state] of this.awareness.getStates()) {
			if (client === this.awareness.clientID) continue;
			const user = stampedUser(state);
			const call = toCallState(state.call);
			if (!user || !call) continue;
			const seen = out.get(user.id);
			out.set(user.id, seen ? joinCallStates(seen, call) : call);
		}
		return out;
	}

	private dropOff(person: Person): void {
		const timer = setTimeout(() => {
			this.gone.delete(person.id);
			this.events.left(person);
			this.update();
		}, LEAVE_GRACE_MS);
		this.gone.set(person.id, { person, timer });
	}

	private clearGone(): void {
		for (const { timer } of this.gone.values()) clearTimeout(timer);
		this.gone.clear();
	}

	/** Re-reads our own entry (view or role changed). */
	refresh(): void {
		this.update();
	}

	destroy(): void {
		this.clearGone();
		if (this.baselineTimer) clearTimeout(this.baselineTimer);
		this.awareness.off('change', this.update);
		this.live.provider.off('sync', this.onSync);
		this.live.provider.off('status', this.onStatus);
	}
}
