// Reading and writing the workspace documents training touches, always through
// the relay (stored before relayed). The shapes are in server/protocol/training.ts.

import * as Y from 'yjs';
import { schema } from '../protocol/docs.ts';
import type { DocKey } from '../protocol/docs.ts';
import type { RunId, UserId, WorkspaceId } from '../protocol/ids.ts';
import type { Annotation, MetricPoint, RunRecord, TrainingState } from '../protocol/training.ts';
import type { RelayApi } from '../relay/api.ts';
import { uniqueRunName } from './runNames.ts';

export const liveKey = (workspace: WorkspaceId): DocKey => ({ workspace, doc: 'live' });
export const runKey = (workspace: WorkspaceId, run: RunId): DocKey => ({
	workspace,
	doc: `run/${run}`
});

/** Opens a document just long enough to read it. */
export async function readDoc<T>(
	relay: RelayApi,
	key: DocKey,
	read: (doc: Y.Doc) => T
): Promise<T> {
	const handle = await relay.open(key);
	try {
		return read(handle.doc);
	} finally {
		handle.release();
	}
}

function runsMap(doc: Y.Doc): Y.Map<Y.Map<unknown>> {
	return doc.getMap<Y.Map<unknown>>(schema.live.runs);
}

export function readRun(doc: Y.Doc, id: string): RunRecord | null {
	const entry = runsMap(doc).get(id);
	return entry instanceof Y.Map ? (entry.toJSON() as RunRecord) : null;
}

export function readRuns(doc: Y.Doc): RunRecord[] {
	const out: RunRecord[] = [];
	for (const entry of runsMap(doc).values()) {
		if (entry instanceof Y.Map) out.push(entry.toJSON() as RunRecord);
	}
	return out.sort((a, b) => b.created_at - a.created_at);
}

export function readMetrics(doc: Y.Doc): MetricPoint[] {
	return doc.getArray<MetricPoint>(schema.run.metrics).toArray();
}

export function readHyperparameters(doc: Y.Doc): Record<string, unknown> {
	return doc.getMap<unknown>(schema.params.hyperparameters).toJSON();
}

export function readConfig(doc: Y.Doc): Record<string, unknown> {
	return doc.getMap<unknown>(schema.params.config).toJSON();
}

/** The code files as text (the `files` map holds a Y.Text per file name). */
export function readCodeFiles(doc: Y.Doc): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [name, text] of doc.getMap<unknown>(schema.code.files).entries()) {
		if (text instanceof Y.Text) out[name] = text.toJSON();
		else if (typeof text === 'string') out[name] = text;
	}
	return out;
}

function applyTraining(doc: Y.Doc, state: Omit<TrainingState, 'updated_at'>, at: number): void {
	const training = doc.getMap<unknown>(schema.live.training);
	for (const [k, v] of Object.entries(state)) {
		if (JSON.stringify(training.get(k)) !== JSON.stringify(v)) training.set(k, v);
	}
	training.set('updated_at', at);
}

export interface LiveWriter {
	/** Records a new run; a name another run has gets the next free "#n" (written into `record`). */
	createRun(record: RunRecord, author: UserId | null): Promise<void>;
	/** With `training`, the training state changes in the same update (never out of step). */
	updateRun(
		id: string,
		fields: Partial<RunRecord>,
		training?: { state: () => Omit<TrainingState, 'updated_at'>; at: number }
	): Promise<void>;
	/** `state` is computed when the write applies, so concurrent publishes end on the latest state. */
	setTraining(state: () => Omit<TrainingState, 'updated_at'>, at: number): Promise<void>;
	addAnnotation(annotation: Annotation, author: UserId): Promise<void>;
}

export function liveWriter(relay: RelayApi, workspace: WorkspaceId): LiveWriter {
	const key = liveKey(workspace);
	return {
		createRun: (record, author) =>
			relay.write(key, author, (doc) => {
				const taken: string[] = [];
				for (const other of runsMap(doc).values()) {
					const name = other instanceof Y.Map ? other.get('name') : undefined;
					if (typeof name === 'string') taken.push(name);
				}
				record.name = uniqueRunName(record.name, taken);
				const entry = new Y.Map<unknown>();
				for (const [k, v] of Object.entries(record)) entry.set(k, v);
				runsMap(doc).set(record.id, entry);
			}),
		updateRun: (id, fields, training) =>
			relay.write(key, null, (doc) => {
				const entry = runsMap(doc).get(id);
				if (entry instanceof Y.Map) for (const [k, v] of Object.entries(fields)) entry.set(k, v);
				if (training) applyTraining(doc, training.state(), training.at);
			}),
		setTraining: (state, at) => relay.write(key, null, (doc) => applyTraining(doc, state(), at)),
		addAnnotation: (annotation, author) =>
			relay.write(key, author, (doc) => {
				doc.getArray<Annotation>(schema.live.annotations).push([annotation]);
			})
	};
}
