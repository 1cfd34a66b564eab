// Debug sessions (issue 15): a script running under the Python client's debugger
// registers here, hears the workspace's breakpoints (resolved to lines from
// their Yjs anchors) and the commands people send, and reports where it paused.
// Everything people see is written into `live.debug` through the relay (stored
// before anyone sees it); commands go there too, so a script polling another
// process hears them. A script that stops polling (or whose sandbox exits) while
// running or paused is marked gone; breakpoints live in the code document and stay.

import { createHash } from 'node:crypto';
import type { DocKey } from '../protocol/docs.ts';
import * as Y from 'yjs';
import { schema } from '../protocol/docs.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';
import { newId } from '../protocol/ids.ts';
import {
	anchorFor,
	breakpointsMap,
	MAX_KEPT_COMMANDS,
	MAX_KEPT_RESULTS,
	resolveBreakpoints,
	sessionsMap,
	type Breakpoint,
	type DebugCommand,
	type DebugPerson,
	type DebugSession,
	type ResolvedBreakpoint
} from '../protocol/debug.ts';
import type { DocHandle, RelayApi } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';
import { TrainingError } from '../training/errors.ts';
import type { ScriptEvent } from './schemas.ts';

export interface DebugServiceOptions {
	readonly relay: RelayApi;
	readonly clock: Clock;
	readonly logger: Logger;
	/** A script that has not polled for this long is gone (DEBUG_GONE_AFTER_S). */
	readonly goneAfterMs: number;
}

export interface SessionStart {
	readonly run: string | null;
	readonly file: string;
	readonly via: DebugSession['via'];
}

/** What a script is told: breakpoints (when they changed) and new commands. */
export interface ScriptMessage {
	readonly t: 'breakpoints' | 'command';
	readonly breakpoints?: readonly ResolvedBreakpoint[];
	readonly seq?: number;
	readonly command?: string;
	readonly expression?: string;
}

const KEPT_FINISHED = 5;
const liveKey = (workspace: WorkspaceId): DocKey => ({ workspace, doc: 'live' });
const codeKey = (workspace: WorkspaceId): DocKey => ({ workspace, doc: 'code' });

function version(breakpoints: readonly ResolvedBreakpoint[]): string {
	return createHash('sha1').update(JSON.stringify(breakpoints)).digest('hex').slice(0, 16);
}

export class DebugService {
	readonly goneAfterMs: number;
	readonly #o: DebugServiceOptions;
	readonly #live = new Map<string, LiveSession>();
	readonly #sweep: ReturnType<typeof setInterval>;

	constructor(options: DebugServiceOptions) {
		this.#o = options;
		this.goneAfterMs = options.goneAfterMs;
		this.#sweep = setInterval(() => this.#sweepGone(), Math.min(1000, options.goneAfterMs / 2));
		this.#sweep.unref();
	}

	/** Registers a new session; `pipe`: the sandbox watches the process itself (no polling). */
	async open(workspace: WorkspaceId, start: SessionStart, pipe = false): Promise<LiveSession> {
		const { relay, clock } = this.#o;
		const id = newId<WorkspaceId>() as string;
		const now = clock.now();
		await relay.write(liveKey(workspace), null, (doc) => {
			const map = sessionsMap(doc);
			const finished = [...map.entries()]
				.filter(([, s]) => s.status === 'ended' || s.status === 'gone')
				.sort(([, a], [, b]) => b.updated - a.updated);
			for (const [old] of finished.slice(KEPT_FINISHED - 1)) map.delete(old);
			map.set(id, {
				id,
				run: start.run,
				file: start.file,
				via: start.via,
				status: 'running',
				paused: null,
				hits: {},
				commands: [],
				results: [],
				note: null,
				started: now,
				updated: now
			});
		});
		return this.#attach(workspace, id, pipe);
	}

	/** The session a script polls or reports to, also when it registered on another process. */
	async find(workspace: WorkspaceId, id: string): Promise<LiveSession> {
		const known = this.#live.get(`${workspace}/${id}`);
		if (known) return known;
		const live = await this.#o.relay.open(liveKey(workspace));
		const session = sessionsMap(live.doc).get(id);
		live.release();
		if (!session) throw new TrainingError(404, 'not_found', `No debug session "${id}".`);
		if (session.status === 'gone' || session.status === 'ended') {
			throw new TrainingError(
				409,
				'conflict',
				`This debug session has ${session.status === 'gone' ? 'been marked gone' : 'ended'}; start the script again.`
			);
		}
		return this.#live.get(`${workspace}/${id}`) ?? this.#attach(workspace, id, false);
	}

	/** A person's command (the route checked their role). Returns it as stored. */
	async command(
		workspace: WorkspaceId,
		id: string,
		by: DebugPerson,
		command: DebugCommand['command'],
		expression: string | undefined
	): Promise<DebugCommand> {
		if (command === 'eval' && !expression?.trim())
			throw new TrainingError(400, 'invalid_request', 'Give an expression to evaluate.');
		let stored: DebugCommand | null = null;
		let refusal: string | null = null;
		await this.#o.relay.write(liveKey(workspace), by.id as UserId, (doc) => {
			const map = sessionsMap(doc);
			const session = map.get(id);
			if (!session) return void (refusal = 'none');
			if (session.status === 'gone' || session.status === 'ended') {
				return void (refusal = `The script is ${session.status === 'gone' ? 'gone' : 'finished'}: there is nothing to ${command === 'eval' ? 'evaluate in' : command.replace('_', ' ')}.`);
			}
			if (session.status !== 'paused' && command !== 'stop') {
				return void (refusal = 'The script is running, not paused: only Stop works now.');
			}
			const last = session.commands[session.commands.length - 1]?.seq ?? 0;
			stored = {
				seq: last + 1,
				command,
				...(expression ? { expression } : {}),
				by: { id: by.id, name: by.name, ...(by.color ? { color: by.color } : {}) },
				at: this.#o.clock.now()
			};
			map.set(id, {
				...session,
				commands: [...session.commands, stored].slice(-MAX_KEPT_COMMANDS),
				updated: this.#o.clock.now()
			});
		});
		if (refusal === 'none') throw new TrainingError(404, 'not_found', `No debug session "${id}".`);
		if (refusal !== null) throw new TrainingError(409, 'conflict', refusal);
		if (!stored) throw new Error('command not stored');
		const command_ = stored as DebugCommand;
		if (command_.command === 'stop') this.#live.get(`${workspace}/${id}`)?.stopHook?.(command_.by);
		return command_;
	}

	/** Sets a breakpoint from a script or the CLI (the app writes the code document itself). */
	async setBreakpoint(
		workspace: WorkspaceId,
		by: DebugPerson,
		file: string,
		line: number,
		options: { condition?: string; hitCount?: number }
	): Promise<{ id: string; line: number }> {
		const id = newId<WorkspaceId>() as string;
		let missing = false;
		let lines = 0;
		await this.#o.relay.write(codeKey(workspace), by.id as UserId, (doc) => {
			const text = doc.getMap<unknown>(schema.code.files).get(file);
			if (!(text instanceof Y.Text)) return void (missing = true);
			lines = text.toJSON().split('\n').length;
			if (line > lines) return;
			const bp: Breakpoint = {
				file,
				anchor: anchorFor(text, line),
				line,
				by,
				...(options.condition ? { condition: options.condition } : {}),
				...(options.hitCount && options.hitCount > 1 ? { hitCount: options.hitCount } : {}),
				at: this.#o.clock.now()
			};
			breakpointsMap(doc).set(id, bp);
		});
		if (missing)
			throw new TrainingError(404, 'not_found', `The workspace has no code file "${file}".`);
		if (line > lines)
			throw new TrainingError(
				400,
				'invalid_request',
				`${file} has ${lines} lines; there is no line ${line}.`
			);
		return { id, line };
	}

	async clearBreakpoint(workspace: WorkspaceId, by: DebugPerson, id: string): Promise<void> {
		let found = false;
		await this.#o.relay.write(codeKey(workspace), by.id as UserId, (doc) => {
			const map = breakpointsMap(doc);
			found = map.has(id);
			if (found) map.delete(id);
		});
		if (!found) throw new TrainingError(404, 'not_found', `No breakpoint "${id}".`);
	}

	/** Every session of the workspace as people see it, newest first. */
	async sessions(workspace: WorkspaceId): Promise<DebugSession[]> {
		const live = await this.#o.relay.open(liveKey(workspace));
		try {
			return [...sessionsMap(live.doc).values()].sort((a, b) => b.started - a.started);
		} finally {
			live.release();
		}
	}

	async close(): Promise<void> {
		clearInterval(this.#sweep);
		for (const session of [...this.#live.values()]) {
			await session.end('gone', 'The server shut down while this script was being debugged.');
		}
	}

	async #attach(workspace: WorkspaceId, id: string, pipe: boolean): Promise<LiveSession> {
		const [code, live] = await Promise.all([
			this.#o.relay.open(codeKey(workspace)),
			this.#o.relay.open(liveKey(workspace))
		]);
		const session = new LiveSession(this.#o, workspace, id, code, live, pipe, () =>
			this.#live.delete(`${workspace}/${id}`)
		);
		this.#live.set(`${workspace}/${id}`, session);
		return session;
	}

	#sweepGone(): void {
		const now = this.#o.clock.now();
		for (const session of this.#live.values()) {
			if (session.pipe || session.polling > 0) continue;
			if (now - session.lastSeen > this.goneAfterMs) {
				const s = Math.round(this.goneAfterMs / 1000);
				void session
					.end('gone', `The script stopped answering (no sign of life for ${s} s).`)
					.catch((err: unknown) =>
						this.#o.logger.error({ err, session: session.id }, 'marking a session gone failed')
					);
			}
		}
	}
}

export class LiveSession {
	readonly workspace: WorkspaceId;
	readonly id: string;
	readonly pipe: boolean;
	polling = 0;
	lastSeen: number;
	/** Set by the sandbox: Stop ends the process from the server. */
	stopHook: ((by: DebugPerson) => void) | null = null;
	readonly #o: DebugServiceOptions;
	readonly #code: DocHandle;
	readonly #liveDoc: DocHandle;
	readonly #forget: () => void;
	readonly #listeners = new Set<() => void>();
	#breakpoints: ResolvedBreakpoint[];
	#version: string;
	#closed = false;

	constructor(
		o: DebugServiceOptions,
		workspace: WorkspaceId,
		id: string,
		code: DocHandle,
		live: DocHandle,
		pipe: boolean,
		forget: () => void
	) {
		this.#o = o;
		this.workspace = workspace;
		this.id = id;
		this.pipe = pipe;
		this.#code = code;
		this.#liveDoc = live;
		this.#forget = forget;
		this.lastSeen = o.clock.now();
		this.#breakpoints = resolveBreakpoints(code.doc);
		this.#version = version(this.#breakpoints);
		code.doc.on('update', this.#onCode);
		live.doc.on('update', this.#notify);
	}

	breakpoints(): { breakpoints: ResolvedBreakpoint[]; version: string } {
		return { breakpoints: this.#breakpoints, version: this.#version };
	}

	state(): DebugSession | null {
		return sessionsMap(this.#liveDoc.doc).get(this.id) ?? null;
	}

	commandsAfter(seq: number): DebugCommand[] {
		return (this.state()?.commands ?? []).filter((c) => c.seq > seq);
	}

	/** Resolves when there are commands after `after`, the breakpoints differ from `version`, or after `ms`. */
	async wait(after: number, known: string, ms: number, aborted: () => boolean): Promise<void> {
		const ready = () =>
			this.#closed ||
			aborted() ||
			this.#version !== known ||
			this.commandsAfter(after).length > 0 ||
			this.state()?.status === 'gone';
		if (ready()) return;
		await new Promise<void>((resolve) => {
			const timer = setTimeout(done, ms);
			const check = () => {
				if (ready()) done();
			};
			function done() {
				clearTimeout(timer);
				listeners.delete(check);
				resolve();
			}
			const listeners = this.#listeners;
			listeners.add(check);
		});
	}

	/** Pushes breakpoints and commands to a script on a pipe (the sandbox); returns the unsubscribe. */
	subscribe(send: (message: ScriptMessage) => void): () => void {
		let sentVersion = '';
		let sentSeq = this.state()?.commands.at(-1)?.seq ?? 0;
		const push = () => {
			if (this.#version !== sentVersion) {
				sentVersion = this.#version;
				send({ t: 'breakpoints', breakpoints: this.#breakpoints });
			}
			for (const c of this.commandsAfter(sentSeq)) {
				sentSeq = c.seq;
				send({ t: 'command', seq: c.seq, command: c.command, expression: c.expression });
			}
		};
		push();
		this.#listeners.add(push);
		return () => this.#listeners.delete(push);
	}

	/** What the script reported. */
	async event(e: ScriptEvent): Promise<void> {
		this.lastSeen = this.#o.clock.now();
		if (e.t === 'ended') return this.end('ended', e.note ?? null);
		const now = this.#o.clock.now();
		await this.#update((s) => {
			if (e.t === 'result') {
				const asked = s.commands.find((c) => c.seq === e.seq);
				const result = {
					seq: e.seq,
					expression: e.expression,
					by: asked?.by ?? { id: '', name: 'someone' },
					value: e.value,
					error: e.error,
					at: now
				};
				return { ...s, results: [...s.results, result].slice(-MAX_KEPT_RESULTS) };
			}
			if (e.t === 'running')
				return { ...s, status: 'running', paused: null, hits: e.hits ?? s.hits };
			const bp = e.breakpoint ? breakpointsMap(this.#code.doc).get(e.breakpoint) : undefined;
			return {
				...s,
				status: 'paused',
				hits: e.hits ?? s.hits,
				paused: {
					file: e.file,
					line: e.line,
					reason: e.reason,
					breakpoint: e.breakpoint
						? { id: e.breakpoint, by: bp?.by ?? { id: '', name: 'someone' } }
						: null,
					stack: e.stack,
					at: now
				}
			};
		});
	}

	/** Ends the session: 'ended' (the script said so) or 'gone' (it vanished); the pause stays visible when gone. */
	async end(status: 'ended' | 'gone', note: string | null): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.#forget();
		this.#notify();
		try {
			await this.#update((s) =>
				s.status === 'ended' || s.status === 'gone'
					? s
					: { ...s, status, note, paused: status === 'ended' ? null : s.paused }
			);
		} finally {
			this.#code.doc.off('update', this.#onCode);
			this.#liveDoc.doc.off('update', this.#notify);
			this.#code.release();
			this.#liveDoc.release();
		}
	}

	async #update(change: (s: DebugSession) => DebugSession): Promise<void> {
		await this.#o.relay.write(liveKey(this.workspace), null, (doc) => {
			const map = sessionsMap(doc);
			const current = map.get(this.id);
			if (!current) return;
			const next = change(current);
			if (next !== current) map.set(this.id, { ...next, updated: this.#o.clock.now() });
		});
	}

	readonly #onCode = (): void => {
		const next = resolveBreakpoints(this.#code.doc);
		const v = version(next);
		if (v === this.#version) return;
		this.#breakpoints = next;
		this.#version = v;
		this.#notify();
	};

	readonly #notify = (): void => {
		for (const listener of [...this.#listeners]) listener();
	};
}
