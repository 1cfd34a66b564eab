// What changed between two moments of one document, in words a person reads at
// a glance (HIST4): the parts of each document the activity feed speaks of are
// captured before and after a group of one author's updates, then compared.

import * as Y from 'yjs';
import { schema, type DocName } from '../protocol/docs.ts';
import type { UserId } from '../protocol/ids.ts';
import type { Annotation, RunRecord, RunStatus } from '../protocol/training.ts';
import { isFinalStatus } from '../protocol/training.ts';

export type Captured =
	| {
			readonly doc: 'params';
			readonly hyperparameters: Record<string, unknown>;
			readonly config: Record<string, unknown>;
	  }
	| { readonly doc: 'code'; readonly files: Record<string, string> }
	| {
			readonly doc: 'live';
			readonly runs: Record<string, RunFacts>;
			readonly datasets: Record<string, { name?: string; rows?: number }>;
			readonly annotations: number;
			readonly annotationList: () => Annotation[];
	  };

interface RunFacts {
	readonly id: string;
	readonly name: string;
	readonly status: RunStatus;
	readonly created_at: number;
	readonly params: RunRecord['params'];
	readonly summary: RunRecord['summary'] | undefined;
	readonly started_by: RunRecord['started_by'] | undefined;
}

/** An activity entry before it is given an id and merged. */
export interface Draft {
	readonly user: UserId | null;
	readonly at: number;
	readonly kind: ActivityKind;
	readonly data: Record<string, unknown>;
	/** One person's repeated changes of one thing within a minute merge into one entry. */
	readonly mergeKey: string | null;
}

export const ACTIVITY_KINDS = [
	'hyperparameter',
	'config',
	'file_added',
	'file_renamed',
	'file_deleted',
	'file_edited',
	'run_started',
	'run_finished',
	'dataset_uploaded',
	'annotation_added',
	'member_joined',
	'member_left',
	'role_changed',
	'restored'
] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

export function textsOf(files: Y.Map<unknown>): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [name, text] of files.entries()) {
		if (text instanceof Y.Text) out[name] = text.toJSON();
		else if (typeof text === 'string') out[name] = text;
	}
	return out;
}

export function capture(doc: Y.Doc, name: DocName): Captured | null {
	if (name === 'params') {
		return {
			doc: 'params',
			hyperparameters: doc.getMap<unknown>(schema.params.hyperparameters).toJSON(),
			config: doc.getMap<unknown>(schema.params.config).toJSON()
		};
	}
	if (name === 'code')
		return { doc: 'code', files: textsOf(doc.getMap<unknown>(schema.code.files)) };
	if (name === 'live') {
		// Only the fields the feed speaks of (a run's record also holds its code).
		const runs: Record<string, RunFacts> = {};
		for (const [id, entry] of doc.getMap<unknown>(schema.live.runs).entries()) {
			if (!(entry instanceof Y.Map)) continue;
			const m = entry as Y.Map<unknown>;
			runs[id] = {
				id,
				name: m.get('name') as string,
				status: m.get('status') as RunStatus,
				created_at: m.get('created_at') as number,
				params: (m.get('params') ?? {}) as RunRecord['params'],
				summary: m.get('summary') as RunRecord['summary'] | undefined,
				started_by: m.get('started_by') as RunRecord['started_by'] | undefined
			};
		}
		const annotations = doc.getArray<Annotation>(schema.live.annotations);
		return {
			doc: 'live',
			runs,
			datasets: doc.getMap<{ name?: string; rows?: number }>(schema.live.datasets).toJSON(),
			annotations: annotations.length,
			annotationList: () => annotations.toArray()
		};
	}
	return null;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Lines added and removed (common leading and trailing lines aside) and the first changed line (1-based). */
export function lineChange(
	before: string,
	after: string
): { added: number; removed: number; line: number } {
	const a = before.split('\n');
	const b = after.split('\n');
	let start = 0;
	while (start < a.length && start < b.length && a[start] === b[start]) start++;
	let endA = a.length;
	let endB = b.length;
	while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
		endA--;
		endB--;
	}
	return { added: endB - start, removed: endA - start, line: start + 1 };
}

function describeParams(
	before: Extract<Captured, { doc: 'params' }>,
	after: Extract<Captured, { doc: 'params' }>,
	user: UserId | null,
	at: number
): Draft[] {
	const out: Draft[] = [];
	// The workspace's first values (written when it is created) are no one's change.
	if (Object.keys(before.hyperparameters).length === 0 && Object.keys(before.config).length === 0)
		return out;
	for (const [kind, b, a] of [
		['hyperparameter', before.hyperparameters, after.hyperparameters],
		['config', before.config, after.config]
	] as const) {
		for (const field of new Set([...Object.keys(b), ...Object.keys(a)])) {
			if (same(b[field], a[field])) continue;
			out.push({
				user,
				at,
				kind,
				data: { field, from: b[field] ?? null, to: a[field] ?? null },
				mergeKey: `${kind}:${user ?? ''}:${field}`
			});
		}
	}
	return out;
}

function describeCode(
	before: Record<string, string>,
	after: Record<string, string>,
	user: UserId | null,
	at: number,
	seqs: { from: number; to: number }
): Draft[] {
	const added = Object.keys(after).filter((f) => !(f in before));
	const removed = Object.keys(before).filter((f) => !(f in after));
	const out: Draft[] = [];
	if (added.length === 1 && removed.length === 1 && after[added[0]!] === before[removed[0]!]) {
		const [from, to] = [removed[0]!, added[0]!];
		out.push({ user, at, kind: 'file_renamed', data: { from, file: to }, mergeKey: null });
	} else {
		for (const file of added)
			out.push({
				user,
				at,
				kind: 'file_added',
				data: { file, lines: after[file]!.split('\n').length },
				mergeKey: null
			});
		for (const file of removed)
			out.push({ user, at, kind: 'file_deleted', data: { file }, mergeKey: null });
	}
	for (const file of Object.keys(after)) {
		if (!(file in before) || before[file] === after[file]) continue;
		const change = lineChange(before[file]!, after[file]!);
		out.push({
			user,
			at,
			kind: 'file_edited',
			data: { file, ...change, from_seq: seqs.from, to_seq: seqs.to },
			mergeKey: `file_edited:${user ?? ''}:${file}`
		});
	}
	return out;
}

function numbersOf(summary: RunRecord['summary'] | undefined): Record<string, number> {
	const out: Record<string, number> = {};
	if (!summary) return out;
	for (const key of ['accuracy', 'loss', 'val_accuracy', 'val_loss'] as const) {
		const v = summary[key];
		if (typeof v === 'number') out[key] = v;
	}
	return out;
}

function describeLive(
	before: Extract<Captured, { doc: 'live' }>,
	after: Extract<Captured, { doc: 'live' }>,
	user: UserId | null,
	at: number
): Draft[] {
	const out: Draft[] = [];
	const previous = Object.values(before.runs).sort((a, b) => b.created_at - a.created_at)[0];
	for (const [id, run] of Object.entries(after.runs)) {
		const old = before.runs[id];
		if (!old) {
			const changed: Record<string, [unknown, unknown]> = {};
			if (previous) {
				for (const k of new Set([...Object.keys(previous.params), ...Object.keys(run.params)]))
					if (!same(previous.params[k], run.params[k]))
						changed[k] = [previous.params[k] ?? null, run.params[k] ?? null];
			}
			out.push({
				user: (run.started_by?.id as UserId | undefined) ?? user,
				at,
				kind: 'run_started',
				data: {
					run: id,
					name: run.name,
					previous: previous ? { run: previous.id, name: previous.name } : null,
					changed
				},
				mergeKey: null
			});
		}
		if (isFinalStatus(run.status) && (!old || !isFinalStatus(old.status))) {
			out.push({
				user: null,
				at,
				kind: 'run_finished',
				data: { run: id, name: run.name, status: run.status, metrics: numbersOf(run.summary) },
				mergeKey: null
			});
		}
	}
	for (const [id, ds] of Object.entries(after.datasets)) {
		if (id in before.datasets) continue;
		out.push({
			user,
			at,
			kind: 'dataset_uploaded',
			data: { dataset: id, name: ds.name ?? id, rows: ds.rows ?? null },
			mergeKey: null
		});
	}
	if (after.annotations > before.annotations) {
		for (const a of after.annotationList().slice(before.annotations)) {
			out.push({
				user: (a.author?.id as UserId | undefined) ?? user,
				at,
				kind: 'annotation_added',
				data: { run: a.run, step: a.step, metric: a.metric, text: a.text, annotation: a.id },
				mergeKey: null
			});
		}
	}
	return out;
}

/** What one author's updates changed, from `before` to `after` (same document). */
export function describe(
	before: Captured,
	after: Captured,
	user: UserId | null,
	at: number,
	seqs: { from: number; to: number }
): Draft[] {
	if (before.doc === 'params' && after.doc === 'params')
		return describeParams(before, after, user, at);
	if (before.doc === 'code' && after.doc === 'code')
		return describeCode(before.files, after.files, user, at, seqs);
	if (before.doc === 'live' && after.doc === 'live') return describeLive(before, after, user, at);
	return [];
}

/** One draft merged into an earlier entry of the same person and thing. */
export function mergeData(
	kind: string,
	earlier: Record<string, unknown>,
	later: Record<string, unknown>
): Record<string, unknown> {
	if (kind === 'file_edited') {
		return {
			...later,
			added: Number(earlier.added ?? 0) + Number(later.added ?? 0),
			removed: Number(earlier.removed ?? 0) + Number(later.removed ?? 0),
			line: Math.min(Number(earlier.line ?? later.line), Number(later.line)),
			from_seq: earlier.from_seq ?? later.from_seq
		};
	}
	// A value changed twice: from the first old value to the latest.
	return { ...later, from: earlier.from ?? null };
}
