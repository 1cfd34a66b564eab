// The code files as the JSON protocol sees them (COMPAT7, COMPAT8): each file a
// string, a revision and the log of edits behind it. JSON edits are transformed
// and applied to the file's Y.Text; edits by Yjs clients come back as operations.
// Positions on the wire count code points; Y.Text counts UTF-16 units.

import * as Y from 'yjs';
import { schema } from '../protocol/docs.ts';
import type { ErrorCode } from './messages.ts';
import { checkOperations, codePointLength, utf16Index, type Operation } from './ot.ts';
import { RevisionLog } from './revisionLog.ts';

interface FileState {
	readonly log: RevisionLog;
	/** The file's text at `log.revision`, the same as its Y.Text. */
	text: string;
	/** Length of `text` in code points. */
	length: number;
}

export interface TextEdit {
	readonly file: string;
	readonly revision: number;
	readonly ops: readonly Operation[];
	/** Client id of the author (tie-breaks): a JSON connection's, or the Yjs client's. */
	readonly client: number;
}

export type ApplyResult =
	| { readonly ok: true; readonly edit: TextEdit }
	| { readonly ok: false; readonly code: ErrorCode; readonly message: string };

const SURROGATE = /[\uD800-\uDFFF]/;
/** What an embedded object in a Y.Text stands for in the plain text. */
const EMBED = '\uFFFC';

export function filesMap(doc: Y.Doc): Y.Map<unknown> {
	return doc.getMap<unknown>(schema.code.files);
}

export class TextFiles {
	readonly #files = new Map<string, FileState>();
	readonly #keep: number;

	constructor(keep: number) {
		this.#keep = keep;
	}

	/** Starts tracking every file present (before observing changes). */
	init(files: Y.Map<unknown>): void {
		for (const [name, v] of files) {
			if (v instanceof Y.Text) this.#state(name, v.toJSON());
		}
	}

	/** Files that exist now, with their text and revision (for workspace_state). */
	snapshot(files: Y.Map<unknown>): Record<string, { content: string; revision: number }> {
		const out: Record<string, { content: string; revision: number }> = {};
		for (const [name, v] of files) {
			if (!(v instanceof Y.Text)) continue;
			const s = this.#state(name, v.toJSON());
			out[name] = { content: s.text, revision: s.log.revision };
		}
		return out;
	}

	file(name: string): { content: string; revision: number } {
		const s = this.#state(name, '');
		return { content: s.text, revision: s.log.revision };
	}

	/**
	 * Transforms a JSON client's edit made at `revision` against what was accepted
	 * since, checks it, and applies it to the file's Y.Text (inside the caller's
	 * transaction on the code doc).
	 */
	applyJson(
		doc: Y.Doc,
		file: string,
		ops: readonly Operation[],
		client: number,
		revision: number
	): ApplyResult {
		const files = filesMap(doc);
		const existing = files.get(file);
		if (existing !== undefined && !(existing instanceof Y.Text)) {
			return { ok: false, code: 'not_a_text_file', message: `${file} is not a text file` };
		}
		let ytext: Y.Text | undefined = existing;
		const state = this.#files.get(file) ?? this.#state(file, ytext?.toJSON() ?? '');
		const rebased = state.log.rebase(ops, client, revision);
		if (!rebased.ok) return rebased;
		const effective = rebased.ops.filter((op) => op.type !== 'retain');
		const problem = checkOperations(state.length, effective);
		if (problem) {
			return {
				ok: false,
				code: 'invalid_op',
				message: `${file} at revision ${revision}: ${problem}`
			};
		}
		if (!ytext && effective.length > 0) {
			ytext = new Y.Text();
			files.set(file, ytext);
		}
		let text = state.text;
		for (const op of effective) {
			if (!ytext) continue;
			const bmp = !SURROGATE.test(text);
			const at = bmp ? op.position : utf16Index(text, op.position);
			if (op.type === 'insert') {
				ytext.insert(at, op.data);
				text = text.slice(0, at) + op.data + text.slice(at);
				state.length += codePointLength(op.data);
			} else {
				const end = bmp ? at + op.length : utf16Index(text, op.length, at, 0);
				ytext.delete(at, end - at);
				text = text.slice(0, at) + text.slice(end);
				state.length -= op.length;
			}
		}
		state.text = text;
		const rev = state.log.append({ ops: effective, client });
		return { ok: true, edit: { file, revision: rev, ops: effective, client } };
	}

	/** Edits made by others (Yjs clients) in one transaction, as operations. */
	fromYjs(
		files: Y.Map<unknown>,
		events: readonly Y.YEvent<Y.AbstractType<unknown>>[],
		transaction: Y.Transaction
	): TextEdit[] {
		const client = authorOf(transaction);
		const out: TextEdit[] = [];
		const replaced = new Set<string>();
		for (const event of events) {
			if (event.target !== files) continue;
			for (const key of event.changes.keys.keys()) {
				replaced.add(key);
				const v = files.get(key);
				const content = v instanceof Y.Text ? v.toJSON() : '';
				const state = this.#state(key, '');
				const ops: Operation[] = [];
				if (state.length > 0) ops.push({ type: 'delete', position: 0, length: state.length });
				if (content) ops.push({ type: 'insert', position: 0, data: content });
				state.text = content;
				state.length = codePointLength(content);
				out.push({ file: key, revision: state.log.append({ ops, client }), ops, client });
			}
		}
		for (const event of events) {
			if (!(event.target instanceof Y.Text) || event.path.length !== 1) continue;
			const file = String(event.path[0]);
			if (replaced.has(file)) continue;
			const state = this.#state(file, '');
			const ops = this.#deltaToOps(state, (event as Y.YTextEvent).delta);
			out.push({ file, revision: state.log.append({ ops, client }), ops, client });
		}
		return out;
	}

	/** Whether the mirror still matches the Y.Text (a cheap length check). */
	consistent(file: string, ytext: Y.Text): boolean {
		return this.#files.get(file)?.text.length === ytext.length;
	}

	/** Starts a file over from its Y.Text (after an inconsistency); returns the new state. */
	reset(file: string, ytext: Y.Text): { content: string; revision: number } {
		const state = this.#state(file, '');
		const content = ytext.toJSON();
		const ops: Operation[] = [];
		if (state.length > 0) ops.push({ type: 'delete', position: 0, length: state.length });
		if (content) ops.push({ type: 'insert', position: 0, data: content });
		state.text = content;
		state.length = codePointLength(content);
		return { content, revision: state.log.append({ ops, client: 0 }) };
	}

	#state(name: string, initial: string): FileState {
		let s = this.#files.get(name);
		if (!s) {
			s = { log: new RevisionLog(this.#keep), text: initial, length: codePointLength(initial) };
			this.#files.set(name, s);
		}
		return s;
	}

	#deltaToOps(
		state: FileState,
		delta: readonly { insert?: unknown; retain?: number; delete?: number }[]
	): Operation[] {
		let text = state.text;
		let bmp = !SURROGATE.test(text);
		let i = 0; // UTF-16 index into `text` as it is edited
		let cp = 0; // the same position in code points
		const ops: Operation[] = [];
		for (const d of delta) {
			if (typeof d.retain === 'number') {
				cp += bmp ? d.retain : codePointLength(text.slice(i, i + d.retain));
				i += d.retain;
			} else if (d.insert !== undefined) {
				const data = typeof d.insert === 'string' ? d.insert : EMBED;
				ops.push({ type: 'insert', position: cp, data });
				text = text.slice(0, i) + data + text.slice(i);
				i += data.length;
				const n = codePointLength(data);
				bmp &&= n === data.length;
				cp += n;
				state.length += n;
			} else if (typeof d.delete === 'number') {
				const n = bmp ? d.delete : codePointLength(text.slice(i, i + d.delete));
				ops.push({ type: 'delete', position: cp, length: n });
				text = text.slice(0, i) + text.slice(i + d.delete);
				state.length -= n;
			}
		}
		state.text = text;
		return ops;
	}
}

/** The Yjs client whose clock advanced in the transaction (0 for deletes only). */
function authorOf(transaction: Y.Transaction): number {
	for (const [client, clock] of transaction.afterState) {
		if ((transaction.beforeState.get(client) ?? 0) < clock) return client;
	}
	return 0;
}
