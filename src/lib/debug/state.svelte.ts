// Reactive views of the shared breakpoints (`code.breakpoints`, resolved to their
// current lines) and of the debug sessions in `live.debug` (issue 15), and the
// app's ways to change breakpoints and send commands to a paused script.

import * as Y from 'yjs';
import { schema } from '$shared/docs.ts';
import {
	anchorFor,
	breakpointsMap,
	resolveBreakpoints,
	sessionsMap,
	type Breakpoint,
	type DebugCommandName,
	type DebugPerson,
	type DebugSession,
	type ResolvedBreakpoint
} from '$shared/debug.ts';
import { request } from '../api.ts';

/** The breakpoints with their lines now, kept current while people edit around them. */
export class SharedBreakpoints {
	list = $state.raw<ResolvedBreakpoint[]>([]);
	readonly #doc: Y.Doc;
	readonly #map: Y.Map<Breakpoint>;
	readonly #files: Y.Map<unknown>;

	constructor(code: Y.Doc) {
		this.#doc = code;
		this.#map = breakpointsMap(code);
		this.#files = code.getMap<unknown>(schema.code.files);
		this.#read();
		this.#map.observe(this.#read);
		this.#files.observeDeep(this.#read);
	}

	readonly #read = (): void => {
		this.list = resolveBreakpoints(this.#doc);
	};

	inFile(file: string): ResolvedBreakpoint[] {
		return this.list.filter((bp) => bp.file === file);
	}

	/** Sets a breakpoint on `line` of `file`, or clears the one already there. */
	toggle(file: string, line: number, by: DebugPerson): void {
		const here = this.list.filter((bp) => bp.file === file && bp.line === line);
		const text = this.#files.get(file);
		if (here.length > 0) {
			this.#doc.transact(() => {
				for (const bp of here) this.#map.delete(bp.id);
			});
			return;
		}
		if (!(text instanceof Y.Text)) return;
		const id = crypto.randomUUID();
		this.#map.set(id, { file, anchor: anchorFor(text, line), line, by, at: Date.now() });
	}

	/** Changes a breakpoint's condition (empty: none) and hit count (1: every hit). */
	update(id: string, condition: string, hitCount: number): void {
		const bp = this.#map.get(id);
		if (!bp) return;
		const next: Breakpoint = {
			file: bp.file,
			anchor: bp.anchor,
			line: bp.line,
			by: bp.by,
			at: bp.at,
			...(condition.trim() ? { condition: condition.trim() } : {}),
			...(hitCount > 1 ? { hitCount: Math.floor(hitCount) } : {})
		};
		this.#map.set(id, next);
	}

	clear(id: string): void {
		this.#map.delete(id);
	}

	destroy(): void {
		this.#map.unobserve(this.#read);
		this.#files.unobserveDeep(this.#read);
	}
}

/** The debug sessions, newest first. */
export class DebugSessions {
	list = $state.raw<DebugSession[]>([]);
	readonly #map: Y.Map<DebugSession>;

	constructor(live: Y.Doc) {
		this.#map = sessionsMap(live);
		this.#read();
		this.#map.observe(this.#read);
	}

	readonly #read = (): void => {
		const out: DebugSession[] = [];
		for (const [id, s] of this.#map.entries()) {
			if (typeof s === 'object' && s !== null && typeof s.status === 'string')
				out.push({ ...s, id });
		}
		this.list = out.sort((a, b) => b.updated - a.updated);
	};

	/** The session to show: a paused one first, then a running one, then the newest gone one. */
	get current(): DebugSession | null {
		return (
			this.list.find((s) => s.status === 'paused') ??
			this.list.find((s) => s.status === 'running') ??
			this.list.find((s) => s.status === 'gone') ??
			null
		);
	}

	destroy(): void {
		this.#map.unobserve(this.#read);
	}
}

/** Sends a command to a paused script through the server (owners and editors). */
export async function sendCommand(
	workspace: string,
	session: string,
	command: DebugCommandName,
	expression?: string
): Promise<void> {
	await request(
		'POST',
		`/api/workspaces/${encodeURIComponent(workspace)}/debug/sessions/${encodeURIComponent(session)}/commands`,
		expression === undefined ? { command } : { command, expression }
	);
}

/** "train.py:17 (Alice's breakpoint)" or "train.py:18 (after a step)". */
export function pausedAt(session: DebugSession): string {
	const p = session.paused;
	if (!p) return session.file;
	const why = p.breakpoint ? `${p.breakpoint.by.name}'s breakpoint` : 'after a step';
	return `${p.file}:${p.line} (${why})`;
}
