// One workspace as the JSON protocol sees it: its JSON connections, bridged to the
// workspace's documents through the relay (COMPAT2…COMPAT9).
//
// Writes go through relay.write, so they are stored before anyone hears of them.
// What JSON clients are sent leaves through one ordered outbox: a text edit's
// acknowledgement and broadcast wait until it is stored, and nothing overtakes
// them, so every JSON client sees the edits of a file in revision order.

import * as Y from 'yjs';
import { CloseCode } from '../protocol/closeCodes.ts';
import { schema, type DocKey } from '../protocol/docs.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';
import { hasPermission, isRole, lowerRole, type Permission, type Role } from '../protocol/roles.ts';
import { checkValue } from '../protocol/values.ts';
import type { DocHandle, PresentUser, RelayApi } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { CompatLimits, JsonConnection } from './connection.ts';
import { toOperations, type ClientMessage, type TextOpMessage } from './messages.ts';
import {
	describeParamsEvents,
	paramsMaps,
	parseStatePath,
	readState,
	trainingStatus,
	writeState,
	type StateChange
} from './state.ts';
import { DurabilityBarrier } from './barrier.ts';
import { PresenceBridge } from './presence.ts';
import { filesMap, TextFiles, type ApplyResult, type TextEdit } from './text.ts';

/** Marks a transaction as this room's own write (Transaction.meta key). */
const COMPAT_WRITE = Symbol('compat write');
const MAX_CURSOR_BYTES = 4096;

interface WriteContext {
	readonly room: CompatRoom;
	readonly userId: UserId;
	readonly stored: Promise<void>;
}

interface Handles {
	readonly params: DocHandle;
	readonly code: DocHandle;
	readonly live: DocHandle;
}

export interface RoomDeps {
	readonly relay: RelayApi;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly limits: CompatLimits;
	/** The last connection left: the server forgets the room. */
	readonly onEmpty: (room: CompatRoom) => void;
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(err: unknown): void } {
	let resolve!: () => void;
	let reject!: (err: unknown) => void;
	const promise = new Promise<void>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	// Observed through the outbox; a rejection here is handled there.
	promise.catch(() => undefined);
	return { promise, resolve, reject };
}

/** The connection's current role no longer allows the write. */
class WriteRefused extends Error {
	readonly role: Role;
	constructor(role: Role) {
		super(`a ${role} may not write`);
		this.role = role;
	}
}

/** Who wrote a transaction, when the relay says (duck-typed: the relay's origins are its own). */
function authorOf(origin: unknown): string | null {
	if (typeof origin !== 'object' || origin === null) return null;
	const o = origin as { identity?: { id?: unknown }; author?: unknown };
	if (typeof o.identity?.id === 'string') return o.identity.id;
	if (typeof o.author === 'string') return o.author;
	return null;
}

export class CompatRoom {
	readonly workspace: WorkspaceId;
	readonly conns = new Set<JsonConnection>();
	disposed = false;

	readonly #handles: Handles;
	readonly #deps: RoomDeps;
	readonly #log: Logger;
	readonly #text: TextFiles;
	#tail: Promise<void> = Promise.resolve();
	readonly #presence: PresenceBridge;
	readonly #cleanups: (() => void)[] = [];
	/** Per document: waits until what others wrote is stored, before JSON clients hear of it. */
	readonly #stored: Record<'params' | 'code' | 'live', DurabilityBarrier>;

	static async open(workspace: WorkspaceId, deps: RoomDeps): Promise<CompatRoom> {
		const keys = (['params', 'code', 'live'] as const).map((doc) => ({ workspace, doc }));
		const opened = await Promise.allSettled(keys.map((k) => deps.relay.open(k)));
		const handles = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
		const failed = opened.find((r) => r.status === 'rejected');
		const [params, code, live] = handles;
		if (failed || !params || !code || !live) {
			for (const h of handles) h.release();
			throw failed?.reason ?? new Error('could not open the workspace documents');
		}
		return new CompatRoom(workspace, { params, code, live }, deps);
	}

	private constructor(workspace: WorkspaceId, handles: Handles, deps: RoomDeps) {
		this.workspace = workspace;
		this.#handles = handles;
		this.#deps = deps;
		this.#log = deps.logger.child({ workspace });
		this.#text = new TextFiles(deps.limits.revisionsKept);
		const barrier = (doc: 'params' | 'code' | 'live') =>
			new DurabilityBarrier(deps.relay, { workspace, doc }, handles[doc].doc, {
				clock: deps.clock,
				logger: this.#log,
				onRelayClose: (code) => this.#relayClosed(code)
			});
		this.#stored = { params: barrier('params'), code: barrier('code'), live: barrier('live') };
		const files = filesMap(handles.code.doc);
		this.#text.init(files);

		const { hyperparameters, config } = paramsMaps(handles.params.doc);
		const onHyper = (events: Y.YEvent<Y.AbstractType<unknown>>[], txn: Y.Transaction) =>
			this.#onParams('hyperparameters', events, txn);
		const onConfig = (events: Y.YEvent<Y.AbstractType<unknown>>[], txn: Y.Transaction) =>
			this.#onParams('config', events, txn);
		hyperparameters.observeDeep(onHyper);
		config.observeDeep(onConfig);
		const training = handles.live.doc.getMap<unknown>(schema.live.training);
		const onTraining = (event: Y.YMapEvent<unknown>, txn: Y.Transaction) =>
			this.#onTraining(event, txn);
		training.observe(onTraining);
		const onFiles = (events: Y.YEvent<Y.AbstractType<unknown>>[], txn: Y.Transaction) =>
			this.#onFiles(files, events, txn);
		files.observeDeep(onFiles);
		this.#presence = new PresenceBridge(handles.live.awareness, {
			broadcast: (message) => this.#broadcast(message, null),
			now: () => this.#now(),
			renewMs: deps.limits.presenceRenewMs
		});
		this.#cleanups.push(
			() => hyperparameters.unobserveDeep(onHyper),
			() => config.unobserveDeep(onConfig),
			() => training.unobserve(onTraining),
			() => files.unobserveDeep(onFiles)
		);
	}

	/** Takes a connection in; false if the room was disposed meanwhile (open a new one). */
	add(conn: JsonConnection): boolean {
		if (this.disposed) return false;
		// Present first (others get user_joined), then the newcomer gets the state with itself in it.
		this.#presence.join(conn);
		this.conns.add(conn);
		const { params, code, live } = this.#handles;
		conn.send({
			type: 'workspace_state',
			state: readState(params.doc, live.doc),
			users: this.#presence.people(),
			you: {
				id: conn.identity.id,
				name: conn.identity.name,
				color: conn.identity.color,
				role: conn.identity.role,
				client_id: conn.clientId
			},
			files: this.#text.snapshot(filesMap(code.doc))
		});
		conn.onClose(() => this.#remove(conn));
		conn.attach((m) => this.#handle(conn, m));
		return true;
	}

	/** The people connected over JSON, one entry per person (their latest connection). */
	presentUsers(): PresentUser[] {
		const byId = new Map<string, PresentUser>();
		for (const conn of this.conns) {
			const { id, name, email, color, role } = conn.identity;
			const prev = byId.get(id);
			if (prev && prev.last_active >= conn.lastActive) continue;
			byId.set(id, {
				id,
				name,
				email,
				color,
				role,
				current_view: conn.currentView,
				last_active: conn.lastActive
			});
		}
		return [...byId.values()];
	}

	/** A member's role changed or was revoked (null): at once, not at the next reconnect. */
	setMemberRole(user: UserId, role: Role | null): void {
		for (const conn of [...this.conns]) {
			if (conn.identity.id !== user) continue;
			if (!isRole(role)) {
				conn.close(CloseCode.forbidden, 'access revoked');
				continue;
			}
			const capped = conn.requestedRole ? lowerRole(role, conn.requestedRole) : role;
			conn.identity = { ...conn.identity, role: capped };
			this.#presence.set(conn);
		}
	}

	closeAll(code: number, reason: string): void {
		for (const conn of [...this.conns]) conn.close(code, reason);
	}

	/** Everything queued for JSON clients has been sent (or failed). */
	settled(): Promise<void> {
		return this.#tail;
	}

	dispose(): void {
		if (this.disposed) return;
		this.disposed = true;
		this.conns.clear();
		this.#presence.destroy();
		for (const b of Object.values(this.#stored)) b.close();
		for (const c of this.#cleanups.splice(0)) c();
		const { params, code, live } = this.#handles;
		params.release();
		code.release();
		live.release();
	}

	// Messages

	#handle(conn: JsonConnection, m: ClientMessage): void {
		try {
			switch (m.type) {
				case 'ping':
					conn.send({ type: 'pong' });
					return;
				case 'state_update':
					return this.#stateUpdate(conn, m.path, m.value);
				case 'presence_update': {
					if (!this.#smallEnough(conn, m.updates.cursor_position)) return;
					if (m.updates.current_view !== undefined) conn.currentView = m.updates.current_view;
					if (m.updates.cursor_position !== undefined)
						conn.cursor = m.updates.cursor_position as typeof conn.cursor;
					this.#presence.set(conn);
					this.#broadcast(
						{
							type: 'presence_update',
							user_id: conn.identity.id,
							updates: m.updates,
							timestamp: this.#now()
						},
						null
					);
					return;
				}
				case 'cursor_position':
					if (!this.#smallEnough(conn, m.position)) return;
					conn.cursor = m.position as typeof conn.cursor;
					this.#broadcast(
						{
							type: 'cursor_position',
							user_id: conn.identity.id,
							user_name: conn.identity.name,
							user_color: conn.identity.color,
							position: m.position,
							view: m.view ?? 'code_editor'
						},
						conn
					);
					return;
				case 'text_op':
					return this.#textOp(conn, m);
				case 'text_sync':
					conn.send({ type: 'text_state', file: m.file, ...this.#text.file(m.file) });
					return;
			}
		} catch (err) {
			// A bug, not bad input (that was validated): say so, keep the process up.
			this.#log.error(
				{ err: err instanceof Error ? err.stack : String(err), type: m.type },
				'compat message failed'
			);
			conn.close(CloseCode.internalError, 'server error');
		}
	}

	/** Cursors travel to everyone, in awareness too: they stay small and shallow (LIMIT7). */
	#smallEnough(conn: JsonConnection, value: unknown): boolean {
		const problem = checkValue(value, MAX_CURSOR_BYTES);
		if (!problem) return true;
		conn.error(problem.code, `cursor position: ${problem.message}`);
		return false;
	}

	#stateUpdate(conn: JsonConnection, path: string, value: unknown): void {
		if (!hasPermission(conn.identity.role, 'edit_hyperparameters')) {
			conn.error('forbidden', `a ${conn.identity.role} may not change the workspace state`);
			return;
		}
		const parsed = parseStatePath(path);
		if (!parsed.ok) {
			conn.error(parsed.code, parsed.message);
			return;
		}
		// The same limits as every other write path, before anything is stored (LIMIT7);
		// a dotted path nests the value that many objects deeper.
		const refused = checkValue(
			value ?? null,
			this.#deps.limits.maxValueBytes,
			parsed.path.rest.length
		);
		if (refused) {
			conn.error(refused.code, refused.message);
			return;
		}
		let problem: string | null = null;
		const key: DocKey = { workspace: this.workspace, doc: 'params' };
		void this.#write(conn, key, 'edit_hyperparameters', (doc) => {
			problem = writeState(doc, parsed.path, value);
		}).then(
			() => {
				if (problem) conn.error('invalid_path', problem);
			},
			() => undefined
		);
	}

	#textOp(conn: JsonConnection, m: TextOpMessage): void {
		if (!hasPermission(conn.identity.role, 'edit_code')) {
			conn.error('forbidden', `a ${conn.identity.role} may not edit code`);
			return;
		}
		const ops = toOperations(m.ops);
		let result: ApplyResult | null = null;
		const key: DocKey = { workspace: this.workspace, doc: 'code' };
		void this.#write(conn, key, 'edit_code', (doc, stored) => {
			result = this.#text.applyJson(doc, m.file, ops, conn.clientId, m.revision);
			if (!result.ok) return;
			const edit = result.edit;
			this.#enqueue(stored, () => {
				conn.send({ type: 'text_op_ack', file: edit.file, revision: edit.revision });
				this.#sendEdit(edit, conn.identity.id, conn);
			});
		}).then(
			() => {
				const r: ApplyResult | null = result;
				if (r && !r.ok) conn.error(r.code, r.message);
			},
			() => undefined
		);
	}

	/**
	 * A write through the relay, marked as this room's own so the observers know
	 * who made it and wait for it to be stored. Resolves once stored; rejects after
	 * telling the connection (and everyone, when storage failed). The role is
	 * checked again when the change runs, inside the relay's transaction: a role
	 * change or removal that arrived meanwhile (from any process) stops it
	 * (COMPAT14).
	 */
	#write(
		conn: JsonConnection,
		key: DocKey,
		permission: Permission,
		change: (doc: Y.Doc, stored: Promise<void>) => void
	): Promise<void> {
		const stored = deferred();
		let ran = false;
		const written = this.#deps.relay.write(key, conn.identity.id, (doc) => {
			if (conn.closed || !hasPermission(conn.identity.role, permission)) {
				// Nothing changes, so nothing is stored or relayed.
				throw new WriteRefused(conn.identity.role);
			}
			ran = true;
			doc._transaction?.meta.set(COMPAT_WRITE, {
				room: this,
				userId: conn.identity.id,
				stored: stored.promise
			} satisfies WriteContext);
			change(doc, stored.promise);
		});
		void written.then(
			() => stored.resolve(),
			(err: unknown) => stored.reject(err)
		);
		return written.catch((err: unknown) => {
			if (err instanceof WriteRefused) {
				conn.error('forbidden', `a ${err.role} may not make this change`);
				throw err;
			}
			this.#log.error(
				{ err: String(err), doc: key.doc, user: conn.identity.id, ran },
				'compat write failed'
			);
			if (!ran) conn.error('unavailable', 'the workspace is not available right now; try again');
			throw err;
		});
	}

	// From the documents to JSON clients

	#onParams(
		root: 'hyperparameters' | 'config',
		events: Y.YEvent<Y.AbstractType<unknown>>[],
		txn: Y.Transaction
	): void {
		const changes = describeParamsEvents(root, events).filter(
			(c) => root === 'hyperparameters' || !/^(hyperparameters|training_status)(\.|$)/.test(c.path)
		);
		if (changes.length === 0 || this.conns.size === 0) return;
		const own = this.#own(txn);
		const userId = own?.userId ?? authorOf(txn.origin);
		this.#sendStateChanges(changes, userId, own?.stored ?? this.#stored.params.wait());
	}

	#onTraining(event: Y.YMapEvent<unknown>, txn: Y.Transaction): void {
		if (!event.keysChanged.has('status') || this.conns.size === 0) return;
		const old = event.changes.keys.get('status')?.oldValue as unknown;
		this.#sendStateChanges(
			[
				{
					path: 'training_status',
					value: trainingStatus(this.#handles.live.doc),
					old_value: (old ?? 'idle') as StateChange['old_value']
				}
			],
			authorOf(txn.origin),
			this.#stored.live.wait()
		);
	}

	#sendStateChanges(changes: StateChange[], userId: string | null, ready: Promise<void>): void {
		const timestamp = this.#now();
		this.#enqueue(ready, () => {
			for (const c of changes) {
				this.#broadcast({ type: 'state_update', ...c, user_id: userId, timestamp }, null);
			}
		});
	}

	#onFiles(
		files: Y.Map<unknown>,
		events: Y.YEvent<Y.AbstractType<unknown>>[],
		txn: Y.Transaction
	): void {
		if (this.#own(txn)) return;
		const edits = this.#text.fromYjs(files, events, txn);
		if (edits.length === 0) return;
		const userId = authorOf(txn.origin);
		const stored = this.#stored.code.wait();
		for (const edit of edits) {
			const ytext = files.get(edit.file);
			if (ytext instanceof Y.Text && !this.#text.consistent(edit.file, ytext)) {
				// Should not happen; if it does, JSON clients start the file over rather than drift.
				this.#log.error({ file: edit.file }, 'compat text mirror out of step; resetting the file');
				const state = this.#text.reset(edit.file, ytext);
				this.#enqueue(stored, () =>
					this.#broadcast({ type: 'text_state', file: edit.file, ...state }, null)
				);
				continue;
			}
			this.#enqueue(stored, () => this.#sendEdit(edit, userId, null));
		}
	}

	#sendEdit(edit: TextEdit, userId: string | null, except: JsonConnection | null): void {
		this.#broadcast(
			{
				type: 'text_op',
				file: edit.file,
				revision: edit.revision,
				ops: edit.ops,
				client_id: edit.client,
				user_id: userId
			},
			except
		);
	}

	#own(txn: Y.Transaction): WriteContext | null {
		const ctx = txn.meta.get(COMPAT_WRITE) as WriteContext | undefined;
		return ctx?.room === this ? ctx : null;
	}

	// Plumbing

	/**
	 * The relay closed its connections to a document of this workspace: deleted
	 * (4404), stopping (1012) or reloading a damaged document (1011, after which
	 * the documents held here are stale). JSON clients are closed the same way and
	 * start over; anything else (a limit) only costs the barrier a reconnect.
	 */
	#relayClosed(code: number): void {
		if (this.disposed) return;
		const reasons: Record<number, string> = {
			[CloseCode.notFound]: 'workspace deleted',
			[CloseCode.serviceRestart]: 'server restarting',
			[CloseCode.internalError]: 'document reloaded; reconnect'
		};
		const reason = reasons[code];
		if (reason) this.closeAll(code, reason);
	}

	#remove(conn: JsonConnection): void {
		if (!this.conns.delete(conn)) return;
		this.#presence.leave(conn);
		if (this.conns.size === 0) this.#deps.onEmpty(this);
	}

	#broadcast(message: object, except: JsonConnection | null): void {
		for (const conn of this.conns) if (conn !== except) conn.send(message);
	}

	/** Sends in order: `deliver` runs after everything enqueued before it, once `ready` resolves. */
	#enqueue(ready: Promise<void>, deliver: () => void): void {
		this.#tail = this.#tail
			.then(() => ready)
			.then(deliver, (err: unknown) => this.#storeFailed(err))
			.catch((err: unknown) =>
				this.#log.error(
					{ err: err instanceof Error ? err.stack : String(err) },
					'compat delivery failed'
				)
			);
	}

	/**
	 * A JSON edit was applied in memory but could not be stored. Its author must not
	 * be told it was accepted, and the others must not build on it: everyone
	 * reconnects and starts over from the documents.
	 */
	#storeFailed(err: unknown): void {
		if (this.conns.size === 0) return;
		this.#log.error(
			{ err: String(err) },
			'a compat write was not stored; closing JSON connections'
		);
		for (const conn of [...this.conns]) {
			conn.send({
				type: 'error',
				code: 'not_saved',
				message: 'the server could not save a change; reconnect'
			});
			conn.close(CloseCode.internalError, 'storage failed');
		}
	}

	#now(): string {
		return new Date(this.#deps.clock.now()).toISOString();
	}
}
