// The seed's workspace state as a view of the workspace documents (COMPAT4, COMPAT5):
//   hyperparameters.<key>  ↔ params `hyperparameters` map
//   <key> (selected_algorithm, dataset, …) ↔ params `config` map
//   training_status        ← live `training.status` (written by the server only)
// Dotted paths below a key reach into that key's JSON value.

import * as Y from 'yjs';
import { schema } from '../protocol/docs.ts';
import type { ErrorCode } from './messages.ts';

export const HYPERPARAMETERS = 'hyperparameters';
export const TRAINING_STATUS = 'training_status';

const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 8;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export interface StatePath {
	/** Which params map. */
	readonly map: 'hyperparameters' | 'config';
	/** The key in that map, or null for the whole hyperparameters object. */
	readonly key: string | null;
	/** Path inside the key's JSON value. */
	readonly rest: readonly string[];
}

export type PathResult =
	| { readonly ok: true; readonly path: StatePath }
	| { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export function parseStatePath(path: string): PathResult {
	const segs = path.split('.');
	if (segs.length > MAX_DEPTH)
		return { ok: false, code: 'invalid_path', message: `a path has at most ${MAX_DEPTH} parts` };
	for (const s of segs) {
		if (!SEGMENT.test(s) || FORBIDDEN_SEGMENTS.has(s)) {
			return {
				ok: false,
				code: 'invalid_path',
				message: `path part "${s.slice(0, 64)}" must be 1–64 letters, digits, "_" or "-"`
			};
		}
	}
	const [first, second, ...rest] = segs;
	if (first === TRAINING_STATUS) {
		return {
			ok: false,
			code: 'read_only_path',
			message: 'training_status is set by the server; start or stop training instead'
		};
	}
	if (first === HYPERPARAMETERS) {
		return { ok: true, path: { map: 'hyperparameters', key: second ?? null, rest } };
	}
	return {
		ok: true,
		path: { map: 'config', key: first ?? '', rest: second === undefined ? [] : [second, ...rest] }
	};
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A document value as plain JSON (Yjs types by their toJSON). */
export function toJson(v: unknown): JsonValue {
	if (v instanceof Y.AbstractType) return v.toJSON() as JsonValue;
	if (v === undefined) return null;
	return v as JsonValue;
}

export function paramsMaps(doc: Y.Doc): {
	hyperparameters: Y.Map<unknown>;
	config: Y.Map<unknown>;
} {
	return {
		hyperparameters: doc.getMap<unknown>(schema.params.hyperparameters),
		config: doc.getMap<unknown>(schema.params.config)
	};
}

export function trainingStatus(live: Y.Doc): JsonValue {
	const status = live.getMap<unknown>(schema.live.training).get('status');
	return status === undefined ? 'idle' : toJson(status);
}

/** The seed's `state`: hyperparameters, the config keys, and training_status. */
export function readState(params: Y.Doc, live: Y.Doc): Record<string, JsonValue> {
	const { hyperparameters, config } = paramsMaps(params);
	const state: Record<string, JsonValue> = {};
	for (const [k, v] of config) {
		if (k !== HYPERPARAMETERS && k !== TRAINING_STATUS) state[k] = toJson(v);
	}
	state[HYPERPARAMETERS] = hyperparameters.toJSON();
	state[TRAINING_STATUS] = trainingStatus(live);
	return state;
}

/**
 * Writes `value` at `path` inside a transaction on the params doc. Returns an
 * error message when the path cannot hold the value (nothing is changed then).
 */
export function writeState(doc: Y.Doc, path: StatePath, value: unknown): string | null {
	const map = paramsMaps(doc)[path.map];
	if (path.key === null) {
		if (!isPlainObject(value)) return 'hyperparameters must be an object';
		for (const k of Object.keys(value)) {
			if (!SEGMENT.test(k) || FORBIDDEN_SEGMENTS.has(k)) return `bad hyperparameter name "${k}"`;
		}
		for (const k of [...map.keys()]) if (!Object.hasOwn(value, k)) map.delete(k);
		for (const [k, v] of Object.entries(value)) map.set(k, v);
		return null;
	}
	if (path.rest.length === 0) {
		map.set(path.key, value);
		return null;
	}
	const current = toJson(map.get(path.key));
	if (current !== null && !isPlainObject(current)) {
		return `${path.key} is not an object; set it as a whole`;
	}
	const root: Record<string, unknown> = isPlainObject(current) ? structuredClone(current) : {};
	let node = root;
	for (const seg of path.rest.slice(0, -1)) {
		const next = node[seg];
		if (next === undefined) node = node[seg] = {};
		else if (isPlainObject(next)) node = next;
		else return `${seg} is not an object; set it as a whole`;
	}
	node[path.rest[path.rest.length - 1] ?? ''] = value;
	map.set(path.key, root);
	return null;
}

export interface StateChange {
	readonly path: string;
	readonly value: JsonValue;
	readonly old_value: JsonValue;
}

/** What a params transaction changed, as the seed's dotted paths. */
export function describeParamsEvents(
	root: 'hyperparameters' | 'config',
	events: readonly Y.YEvent<Y.AbstractType<unknown>>[]
): StateChange[] {
	const out: StateChange[] = [];
	const prefix = root === 'hyperparameters' ? [HYPERPARAMETERS] : [];
	for (const event of events) {
		const base = [...prefix, ...event.path.map(String)];
		const target = event.target;
		if (target instanceof Y.Map) {
			for (const [key, change] of event.changes.keys) {
				out.push({
					path: [...base, key].join('.'),
					value: change.action === 'delete' ? null : toJson(target.get(key)),
					old_value: toJson(change.oldValue)
				});
			}
		} else if (base.length > 0) {
			out.push({ path: base.join('.'), value: toJson(target), old_value: null });
		}
	}
	return out;
}
