// Presence shared between JSON and Yjs clients through the awareness of the
// workspace's `live` document (COMPAT3): each JSON connection gets an awareness
// state of its own, and arrivals, departures and view changes of anyone in that
// awareness become the seed's user_joined / user_left / presence_update.

import * as encoding from 'lib0/encoding';
import { applyAwarenessUpdate, type Awareness } from 'y-protocols/awareness';
import { VIEWS, type View } from '../protocol/docs.ts';
import type { JsonConnection } from './connection.ts';

/** Origin of the awareness states set for JSON clients. */
const PRESENCE_ORIGIN = Symbol('compat presence');

interface PresentClient {
	readonly user: { id: string; name: string; color: string; role: string };
	readonly view: View;
}

interface PresentPerson {
	readonly id: string;
	readonly name: string;
	readonly color: string;
	readonly role: string;
	view: View;
}

interface AwarenessChange {
	added: number[];
	updated: number[];
	removed: number[];
}

export interface PresenceDeps {
	readonly broadcast: (message: object) => void;
	/** ISO time for the seed's `timestamp`. */
	readonly now: () => string;
	/** How often JSON clients' states are renewed (Awareness drops them after 30 s). */
	readonly renewMs: number;
}

function asView(v: unknown): View {
	return typeof v === 'string' && (VIEWS as readonly string[]).includes(v)
		? (v as View)
		: 'dashboard';
}

export class PresenceBridge {
	readonly #awareness: Awareness;
	readonly #deps: PresenceDeps;
	/** Every awareness client with a stamped user, JSON or Yjs. */
	readonly #clients = new Map<number, PresentClient>();
	readonly #people = new Map<string, PresentPerson>();
	readonly #json = new Map<number, JsonConnection>();
	readonly #renew: ReturnType<typeof setInterval>;
	readonly #onChange: (change: AwarenessChange, origin: unknown) => void;

	constructor(awareness: Awareness, deps: PresenceDeps) {
		this.#awareness = awareness;
		this.#deps = deps;
		for (const [id, state] of awareness.getStates()) this.#track(id, state);
		for (const c of this.#clients.values()) {
			if (!this.#people.has(c.user.id)) this.#people.set(c.user.id, { ...c.user, view: c.view });
		}
		this.#onChange = (change, origin) => this.#changed(change, origin);
		awareness.on('change', this.#onChange);
		this.#renew = setInterval(() => {
			for (const conn of [...this.#json.values()])
				conn.guard('presence renewal', () => this.set(conn));
		}, deps.renewMs);
		this.#renew.unref?.();
	}

	/** The people present, one entry each (for workspace_state). */
	people(): { id: string; name: string; color: string; current_view: View }[] {
		return [...this.#people.values()].map((p) => ({
			id: p.id,
			name: p.name,
			color: p.color,
			current_view: p.view
		}));
	}

	/** A JSON connection arrives: others hear user_joined if it is a new person. */
	join(conn: JsonConnection): void {
		this.#json.set(conn.clientId, conn);
		this.set(conn);
	}

	leave(conn: JsonConnection): void {
		if (!this.#json.delete(conn.clientId)) return;
		this.#write(conn, null);
	}

	/** (Re)publishes a JSON connection's state: identity, view, cursor. */
	set(conn: JsonConnection): void {
		const { id, name, color, role } = conn.identity;
		this.#write(conn, {
			user: { id, name, color, role },
			current_view: conn.currentView,
			cursor_position: conn.cursor,
			client: 'seed-json'
		});
	}

	destroy(): void {
		clearInterval(this.#renew);
		this.#awareness.off('change', this.#onChange);
		const conns = [...this.#json.values()];
		this.#json.clear();
		for (const conn of conns) this.#write(conn, null);
	}

	#write(conn: JsonConnection, state: object | null): void {
		conn.awarenessClock++;
		const e = encoding.createEncoder();
		encoding.writeVarUint(e, 1);
		encoding.writeVarUint(e, conn.clientId);
		encoding.writeVarUint(e, conn.awarenessClock);
		encoding.writeVarString(e, JSON.stringify(state));
		applyAwarenessUpdate(this.#awareness, encoding.toUint8Array(e), PRESENCE_ORIGIN);
	}

	#track(clientID: number, state: Record<string, unknown> | undefined): PresentClient | null {
		const user = state?.user as Record<string, unknown> | undefined;
		if (!user || typeof user.id !== 'string') {
			this.#clients.delete(clientID);
			return null;
		}
		const client: PresentClient = {
			user: {
				id: user.id,
				name: typeof user.name === 'string' ? user.name : '',
				color: typeof user.color === 'string' ? user.color : '',
				role: typeof user.role === 'string' ? user.role : 'viewer'
			},
			view: asView(state?.current_view)
		};
		this.#clients.set(clientID, client);
		return client;
	}

	#changed(change: AwarenessChange, origin: unknown): void {
		const states = this.#awareness.getStates();
		/** The latest view per person; JSON clients announce their own (presence_update). */
		const views = new Map<string, { view: View; announce: boolean }>();
		for (const id of [...change.added, ...change.updated]) {
			const before = this.#clients.get(id);
			const after = this.#track(id, states.get(id));
			if (after && (!before || before.view !== after.view)) {
				views.set(after.user.id, {
					view: after.view,
					announce: !!before && origin !== PRESENCE_ORIGIN
				});
			}
		}
		// A stock y-websocket client echoes every state it hears, and the relay lets
		// it claim the client ids of states the server set (they have no owner
		// there), so they are removed when it leaves: JSON clients still here are
		// put back at once instead of "leaving".
		const reassert: JsonConnection[] = [];
		for (const id of change.removed) {
			const conn = this.#json.get(id);
			if (conn) reassert.push(conn);
			else this.#clients.delete(id);
		}
		if (reassert.length > 0) {
			queueMicrotask(() => {
				for (const conn of reassert) if (this.#json.has(conn.clientId)) this.set(conn);
			});
		}

		const timestamp = this.#deps.now();
		const present = new Set<string>();
		for (const c of this.#clients.values()) {
			present.add(c.user.id);
			if (this.#people.has(c.user.id)) continue;
			this.#people.set(c.user.id, { ...c.user, view: c.view });
			const { id, name, color, role } = c.user;
			this.#deps.broadcast({ type: 'user_joined', user: { id, name, color, role }, timestamp });
		}
		for (const [id, p] of [...this.#people]) {
			if (present.has(id)) continue;
			this.#people.delete(id);
			this.#deps.broadcast({ type: 'user_left', user: { id, name: p.name }, timestamp });
		}
		for (const [id, v] of views) {
			const p = this.#people.get(id);
			if (p) p.view = v.view;
			if (v.announce) {
				this.#deps.broadcast({
					type: 'presence_update',
					user_id: id,
					updates: { current_view: v.view },
					timestamp
				});
			}
		}
	}
}
