// Shared breakpoints and debug sessions (issue 15), read by the server and the app.
// `code.breakpoints` maps a breakpoint id → Breakpoint, anchored to its file's
// Y.Text with a Yjs relative position so it stays on its line while people edit
// around it. `live.debug` maps a session id → DebugSession: the paused script as
// the server last heard it, the commands people sent and the results they got.

import * as Y from 'yjs';
import { schema } from './docs.ts';

/** Who set a breakpoint or sent a command (stamped by the server or the relay's identity). */
export interface DebugPerson {
	readonly id: string;
	readonly name: string;
	readonly color?: string;
}

export interface Breakpoint {
	readonly file: string;
	/** Y.relativePositionToJSON of the line's first character. */
	readonly anchor: unknown;
	/** The line when it was set: used only if the anchor no longer resolves. */
	readonly line: number;
	readonly by: DebugPerson;
	/** A Python expression: pause only when it is true. */
	readonly condition?: string;
	/** Pause from this hit on (1 = every time). */
	readonly hitCount?: number;
	readonly at: number;
}

/** A breakpoint as a script needs it: its line now. */
export interface ResolvedBreakpoint {
	readonly id: string;
	readonly file: string;
	readonly line: number;
	readonly by: DebugPerson;
	readonly condition: string | null;
	readonly hitCount: number;
}

export const DEBUG_COMMANDS = [
	'continue',
	'step_over',
	'step_into',
	'step_out',
	'stop',
	'eval'
] as const;
export type DebugCommandName = (typeof DEBUG_COMMANDS)[number];

export interface DebugCommand {
	readonly seq: number;
	readonly command: DebugCommandName;
	readonly expression?: string;
	readonly by: DebugPerson;
	readonly at: number;
}

export interface DebugVariable {
	readonly name: string;
	readonly value: string;
	readonly type: string;
}

export interface DebugFrame {
	readonly file: string;
	readonly line: number;
	readonly function: string;
	readonly locals: readonly DebugVariable[];
}

export interface DebugPause {
	readonly file: string;
	readonly line: number;
	readonly reason: 'breakpoint' | 'step';
	/** The breakpoint it stopped at (null after a step), with who set it. */
	readonly breakpoint: { readonly id: string; readonly by: DebugPerson } | null;
	/** Innermost first. */
	readonly stack: readonly DebugFrame[];
	readonly at: number;
}

export interface DebugResult {
	readonly seq: number;
	readonly expression: string;
	readonly by: DebugPerson;
	readonly value: string | null;
	readonly error: string | null;
	readonly at: number;
}

export type DebugStatus = 'running' | 'paused' | 'gone' | 'ended';

export interface DebugSession {
	readonly id: string;
	readonly run: string | null;
	readonly file: string;
	/** Where the script runs: started by the Python client, in the server's sandbox, or by an agent. */
	readonly via: 'client' | 'sandbox' | 'agent';
	readonly status: DebugStatus;
	readonly paused: DebugPause | null;
	/** Times each breakpoint was hit in this session. */
	readonly hits: Readonly<Record<string, number>>;
	/** The newest commands (bounded); a script acts on those after the last seq it saw. */
	readonly commands: readonly DebugCommand[];
	readonly results: readonly DebugResult[];
	/** Why it is gone or how it ended, in words. */
	readonly note: string | null;
	readonly started: number;
	readonly updated: number;
}

export const MAX_KEPT_COMMANDS = 20;
export const MAX_KEPT_RESULTS = 20;

export function breakpointsMap(doc: Y.Doc): Y.Map<Breakpoint> {
	return doc.getMap<Breakpoint>(schema.code.breakpoints);
}

export function sessionsMap(doc: Y.Doc): Y.Map<DebugSession> {
	return doc.getMap<DebugSession>(schema.live.debug);
}

/** The index of the first character of 1-based `line` in `text` (its length past the end). */
export function lineStart(text: string, line: number): number {
	let index = 0;
	for (let l = 1; l < line; l++) {
		const next = text.indexOf('\n', index);
		if (next < 0) return text.length;
		index = next + 1;
	}
	return index;
}

/** The 1-based line holding `index`. */
export function lineAt(text: string, index: number): number {
	let line = 1;
	for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) line++;
	return line;
}

/** The anchor of a breakpoint on `line` of `ytext`. */
export function anchorFor(ytext: Y.Text, line: number): unknown {
	const index = lineStart(ytext.toJSON(), line);
	return Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(ytext, index));
}

/** The line a breakpoint is on now, or null when its file is gone. */
export function resolveLine(doc: Y.Doc, bp: Breakpoint): number | null {
	const text = doc.getMap<unknown>(schema.code.files).get(bp.file);
	if (!(text instanceof Y.Text)) return null;
	try {
		const abs = Y.createAbsolutePositionFromRelativePosition(
			Y.createRelativePositionFromJSON(bp.anchor),
			doc
		);
		if (abs && abs.type === text) return lineAt(text.toJSON(), abs.index);
	} catch {
		// A malformed anchor falls back to the line it was set on.
	}
	return bp.line;
}

/** Every breakpoint with its current line, sorted by file and line. */
export function resolveBreakpoints(doc: Y.Doc): ResolvedBreakpoint[] {
	const out: ResolvedBreakpoint[] = [];
	for (const [id, bp] of breakpointsMap(doc).entries()) {
		if (typeof bp !== 'object' || bp === null || typeof bp.file !== 'string') continue;
		const line = resolveLine(doc, bp);
		if (line === null) continue;
		out.push({
			id,
			file: bp.file,
			line,
			by: bp.by,
			condition: typeof bp.condition === 'string' && bp.condition.trim() ? bp.condition : null,
			hitCount: typeof bp.hitCount === 'number' && bp.hitCount > 1 ? Math.floor(bp.hitCount) : 1
		});
	}
	return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}
