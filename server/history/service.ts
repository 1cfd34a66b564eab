// History's one entry point for the HTTP layer (issue 13): the activity feed,
// the workspace at a past moment, restore, and the transcript. It reads from
// storage's kept log (server/history/past.ts) and writes through the relay, so
// a restore is stored before anyone sees it, like any other change.

import * as Y from 'yjs';
import { roomName, schema, type DocKey } from '../protocol/docs.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';
import type { RelayApi } from '../relay/api.ts';
import type { Clock, Logger } from '../runtime.ts';
import type { ActivityQuery, ActivityRecord, Storage, Workspace } from '../storage/types.ts';
import { textsOf } from './describe.ts';
import { docAt, HistoryGoneError } from './past.ts';
import { HistoryTailer, newActivityId } from './tailer.ts';
import { summarize } from './words.ts';

export class HistoryError extends Error {
	readonly status: 400 | 403 | 404 | 409 | 410;
	readonly code: string;
	constructor(status: 400 | 403 | 404 | 409 | 410, code: string, message: string) {
		super(message);
		this.status = status;
		this.code = code;
	}
}

export interface PastState {
	readonly at: number;
	readonly hyperparameters: Record<string, unknown>;
	readonly config: Record<string, unknown>;
	readonly files: Record<string, string>;
	/** The last change at or before `at` of each document (seq 0: none yet). */
	readonly seqs: { readonly params: number; readonly code: number };
}

export type RestoreScope = 'hyperparameters' | 'files' | 'file';

export interface HistoryServiceOptions {
	readonly storage: Storage;
	readonly relay: RelayApi;
	readonly clock: Clock;
	readonly logger: Logger;
}

/** Replaces a Y.Text's content by `text`, touching only the middle that differs. */
function setText(target: Y.Text, text: string): void {
	const now = target.toJSON();
	if (now === text) return;
	let start = 0;
	while (start < now.length && start < text.length && now[start] === text[start]) start++;
	let endNow = now.length;
	let endText = text.length;
	while (endNow > start && endText > start && now[endNow - 1] === text[endText - 1]) {
		endNow--;
		endText--;
	}
	if (endNow > start) target.delete(start, endNow - start);
	if (endText > start) target.insert(start, text.slice(start, endText));
}

export class HistoryService {
	readonly tailer: HistoryTailer;
	readonly #o: HistoryServiceOptions;
	readonly #unsubscribe: () => void;

	constructor(options: HistoryServiceOptions) {
		this.#o = options;
		this.tailer = new HistoryTailer({
			storage: options.storage,
			clock: options.clock,
			logger: options.logger,
			onEntries: (workspace, entries) => this.#announce(workspace, entries)
		});
		this.#unsubscribe = options.relay.onStored((key) => this.tailer.notify(roomName(key)));
	}

	/** Tells open pages (live `activity`) that the feed has new entries (HIST5). */
	#announce(workspace: WorkspaceId, entries: readonly ActivityRecord[]): void {
		const newest = entries.reduce((a, b) => (a.at >= b.at ? a : b));
		this.#o.relay
			.write({ workspace, doc: 'live' }, null, (doc) => {
				doc.getMap<unknown>(schema.live.activity).set('latest', { id: newest.id, at: newest.at });
			})
			.catch((err: unknown) =>
				this.#o.logger.warn({ err: String(err), workspace }, 'announcing activity failed')
			);
	}

	async activity(workspace: WorkspaceId, query: ActivityQuery): Promise<ActivityRecord[]> {
		await this.tailer.catchUp(workspace);
		return this.#o.storage.archive.listActivity(workspace, query);
	}

	/** An explicit event (members, restores): stored, then announced. */
	async record(
		workspace: WorkspaceId,
		user: UserId | null,
		userName: string | null,
		kind: string,
		data: Record<string, unknown>
	): Promise<ActivityRecord> {
		const at = this.#o.clock.now();
		const entry: ActivityRecord = {
			workspace,
			id: newActivityId(at),
			at,
			user,
			kind,
			summary: summarize(kind, data, userName),
			data,
			mergeKey: null
		};
		await this.#o.storage.archive.addActivity([entry]);
		this.#announce(workspace, [entry]);
		return entry;
	}

	/** Refuses a moment before the workspace existed or in the future (400). */
	checkMoment(workspace: Workspace, at: number): void {
		if (!Number.isFinite(at)) throw new HistoryError(400, 'bad_time', '`at` is not a valid time.');
		if (at < workspace.createdAt) {
			throw new HistoryError(
				400,
				'before_workspace',
				`The workspace did not exist at ${new Date(at).toISOString()}; it was created at ${new Date(workspace.createdAt).toISOString()}.`
			);
		}
		if (at > this.#o.clock.now() + 1000)
			throw new HistoryError(400, 'future_time', `${new Date(at).toISOString()} is in the future.`);
	}

	async stateAt(workspace: Workspace, at: number): Promise<PastState> {
		this.checkMoment(workspace, at);
		const archive = this.#o.storage.archive;
		const read = async <T>(doc: 'params' | 'code', pick: (d: Y.Doc) => T) => {
			const room = roomName({ workspace: workspace.id, doc });
			const seq = await archive.seqAt(room, at);
			try {
				const { doc: past } = await docAt(archive, room, seq);
				try {
					return { seq, value: pick(past) };
				} finally {
					past.destroy();
				}
			} catch (err) {
				if (err instanceof HistoryGoneError)
					throw new HistoryError(410, 'history_gone', err.message);
				throw err;
			}
		};
		const [params, code] = await Promise.all([
			read('params', (d) => ({
				hyperparameters: d.getMap<unknown>(schema.params.hyperparameters).toJSON(),
				config: d.getMap<unknown>(schema.params.config).toJSON()
			})),
			read('code', (d) => textsOf(d.getMap<unknown>(schema.code.files)))
		]);
		return {
			at,
			hyperparameters: params.value.hyperparameters,
			config: params.value.config,
			files: code.value,
			seqs: { params: params.seq, code: code.seq }
		};
	}

	/**
	 * Brings the hyperparameters, the code files or one file back to `at`, as a
	 * new change by `user` (HIST6). Nothing is rewritten: the past stays as it was.
	 */
	async restore(
		workspace: Workspace,
		user: { id: UserId; name: string },
		at: number,
		scope: RestoreScope,
		file: string | undefined
	): Promise<{ changed: string[]; entry: ActivityRecord }> {
		if (scope === 'file' && !file)
			throw new HistoryError(400, 'missing_file', 'Name the `file` to restore (scope "file").');
		const past = await this.stateAt(workspace, at);
		if (scope === 'file' && !(file! in past.files)) {
			throw new HistoryError(
				404,
				'no_such_file',
				`There was no file "${file}" at ${new Date(at).toISOString()}.`
			);
		}
		const changed: string[] = [];
		if (scope === 'hyperparameters') {
			const key: DocKey = { workspace: workspace.id, doc: 'params' };
			await this.#o.relay.write(key, user.id, (doc) => {
				const map = doc.getMap<unknown>(schema.params.hyperparameters);
				for (const [k, v] of Object.entries(past.hyperparameters)) {
					if (JSON.stringify(map.get(k)) !== JSON.stringify(v)) {
						map.set(k, v);
						changed.push(k);
					}
				}
				for (const k of [...map.keys()]) {
					if (!(k in past.hyperparameters)) {
						map.delete(k);
						changed.push(k);
					}
				}
			});
		} else {
			const key: DocKey = { workspace: workspace.id, doc: 'code' };
			const names = scope === 'file' ? [file!] : Object.keys(past.files);
			await this.#o.relay.write(key, user.id, (doc) => {
				const files = doc.getMap<unknown>(schema.code.files);
				for (const name of names) {
					const now = files.get(name);
					if (now instanceof Y.Text) {
						if (now.toJSON() === past.files[name]) continue;
						setText(now, past.files[name]!);
					} else {
						files.set(name, new Y.Text(past.files[name]));
					}
					changed.push(name);
				}
				if (scope === 'files') {
					for (const name of [...files.keys()]) {
						if (!(name in past.files)) {
							files.delete(name);
							changed.push(name);
						}
					}
				}
			});
		}
		const entry = await this.record(workspace.id, user.id, user.name, 'restored', {
			scope,
			...(file ? { file } : {}),
			moment: new Date(at).toISOString(),
			restored_at: at,
			changed
		});
		return { changed, entry };
	}

	async close(): Promise<void> {
		this.#unsubscribe();
		await this.tailer.close();
	}
}
