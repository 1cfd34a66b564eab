// The seed's dotted paths over the params document (COMPAT4, COMPAT5), and the
// revision log's limits (COMPAT8), without sockets.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { RevisionLog } from '../../server/compat/revisionLog.ts';
import {
	describeParamsEvents,
	parseStatePath,
	readState,
	writeState,
	type StateChange,
	type StatePath
} from '../../server/compat/state.ts';

function path(p: string): StatePath {
	const r = parseStatePath(p);
	if (!r.ok) throw new Error(r.message);
	return r.path;
}

function watch(doc: Y.Doc): StateChange[] {
	const seen: StateChange[] = [];
	doc
		.getMap('hyperparameters')
		.observeDeep((events) => seen.push(...describeParamsEvents('hyperparameters', events)));
	doc
		.getMap('config')
		.observeDeep((events) => seen.push(...describeParamsEvents('config', events)));
	return seen;
}

describe('state paths', () => {
	it('[COMPAT4] hyperparameters.<key> and top-level keys map onto params', () => {
		expect(path('hyperparameters.learning_rate')).toEqual({
			map: 'hyperparameters',
			key: 'learning_rate',
			rest: []
		});
		expect(path('selected_algorithm')).toEqual({
			map: 'config',
			key: 'selected_algorithm',
			rest: []
		});
		expect(path('dataset.name')).toEqual({ map: 'config', key: 'dataset', rest: ['name'] });
		expect(path('hyperparameters')).toEqual({ map: 'hyperparameters', key: null, rest: [] });
	});

	it('[COMPAT4] bad and server-owned paths are refused', () => {
		for (const bad of [
			'',
			'a..b',
			'hyperparameters.__proto__',
			'a b',
			'a.b.c.d.e.f.g.h.i',
			'x'.repeat(65)
		]) {
			const r = parseStatePath(bad);
			expect(r.ok, bad).toBe(false);
			if (!r.ok) expect(r.code).toBe('invalid_path');
		}
		const ts = parseStatePath('training_status');
		expect(ts.ok || ts.code).toBe('read_only_path');
	});

	it('[COMPAT4] writes set keys, reach into JSON values, and replace the hyperparameters', () => {
		const doc = new Y.Doc();
		const live = new Y.Doc();
		doc.transact(() => {
			expect(writeState(doc, path('hyperparameters.epochs'), 5)).toBeNull();
			expect(writeState(doc, path('selected_algorithm'), 'mlp')).toBeNull();
			expect(writeState(doc, path('dataset.source.name'), 'iris')).toBeNull();
		});
		expect(readState(doc, live)).toEqual({
			hyperparameters: { epochs: 5 },
			selected_algorithm: 'mlp',
			dataset: { source: { name: 'iris' } },
			training_status: 'idle'
		});
		expect(writeState(doc, path('selected_algorithm.kind'), 1)).toMatch(/not an object/);
		expect(writeState(doc, path('hyperparameters'), 3)).toMatch(/must be an object/);
		writeState(doc, path('hyperparameters'), { learning_rate: 0.1 });
		expect(readState(doc, live).hyperparameters).toEqual({ learning_rate: 0.1 });
		live.getMap('training').set('status', 'running');
		expect(readState(doc, live).training_status).toBe('running');
	});

	it('[COMPAT5] changes are described with path, value and old value', () => {
		const doc = new Y.Doc();
		const seen = watch(doc);
		writeState(doc, path('hyperparameters.epochs'), 5);
		writeState(doc, path('hyperparameters.epochs'), 6);
		writeState(doc, path('selected_algorithm'), 'cnn');
		doc.getMap('hyperparameters').delete('epochs');
		expect(seen).toEqual([
			{ path: 'hyperparameters.epochs', value: 5, old_value: null },
			{ path: 'hyperparameters.epochs', value: 6, old_value: 5 },
			{ path: 'selected_algorithm', value: 'cnn', old_value: null },
			{ path: 'hyperparameters.epochs', value: null, old_value: 6 }
		]);
	});
});

describe('revision log', () => {
	it('[COMPAT8] keeps a bounded history: older revisions are stale, newer ones unknown', () => {
		const log = new RevisionLog(3);
		for (let i = 0; i < 10; i++)
			log.append({ ops: [{ type: 'insert', position: 0, data: 'x' }], client: 1 });
		expect(log.revision).toBe(10);
		const stale = log.rebase([], 2, 0);
		expect(stale.ok || stale.code).toBe('stale_revision');
		const future = log.rebase([], 2, 11);
		expect(future.ok || future.code).toBe('future_revision');
		const recent = log.rebase([{ type: 'insert', position: 0, data: 'y' }], 2, 8);
		expect(recent).toEqual({ ok: true, ops: [{ type: 'insert', position: 2, data: 'y' }] });
	});
});
