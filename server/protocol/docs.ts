// The workspace as documents: one Yjs document per permission scope (DESIGN.md).
// Room names are `{workspace}/{doc}`; this module is the one place that parses them.

import type { Permission } from './roles.ts';
import { parseRunId, parseWorkspaceId, type RunId, type WorkspaceId } from './ids.ts';

export type DocName = 'params' | 'code' | 'live' | `run/${RunId}`;

export interface DocKey {
	readonly workspace: WorkspaceId;
	readonly doc: DocName;
}

/** `{workspace}/{doc}`: the room name on the wire, the storage key and the bus channel. */
export type RoomName = `${WorkspaceId}/${DocName}`;

export function roomName(key: DocKey): RoomName {
	return `${key.workspace}/${key.doc}`;
}

export function parseDocName(value: string): DocName | null {
	if (value === 'params' || value === 'code' || value === 'live') return value;
	if (value.startsWith('run/')) {
		const run = parseRunId(value.slice(4));
		return run ? `run/${run}` : null;
	}
	return null;
}

/** Parses `{workspace}/{doc}` (the path after `/ws/`). */
export function parseRoomName(value: string): DocKey | null {
	const slash = value.indexOf('/');
	if (slash < 0) return null;
	const workspace = parseWorkspaceId(value.slice(0, slash));
	const doc = parseDocName(value.slice(slash + 1));
	return workspace && doc ? { workspace, doc } : null;
}

/**
 * The permission a client needs to write a document, or null when only the
 * server writes it (clients send commands that the server checks and applies).
 */
export function writePermission(doc: DocName): Permission | null {
	switch (doc) {
		case 'params':
			return 'edit_hyperparameters';
		case 'code':
			return 'edit_code';
		default:
			return null;
	}
}

/** Names of the shared types inside each document (the document schema). */
export const schema = {
	params: {
		hyperparameters: 'hyperparameters',
		config: 'config',
		/** The runs table's shared state: runs picked to compare, chart metric (src/lib/training/runsTable.ts). */
		runs_table: 'runs_table'
	},
	/** `breakpoints`: shared breakpoints by id, anchored to the files' text (server/protocol/debug.ts). */
	code: { files: 'files', breakpoints: 'breakpoints' },
	live: {
		runs: 'runs',
		training: 'training',
		chat: 'chat',
		annotations: 'annotations',
		activity: 'activity',
		/** Uploaded data sets by id ({name, rows, at}): tells open pages the list changed. */
		datasets: 'datasets',
		/** Sweeps by id (a SweepRecord each, server/protocol/sweeps.ts). */
		sweeps: 'sweeps',
		/** Debug sessions by id (server/protocol/debug.ts): where a script paused, commands, results. */
		debug: 'debug'
	},
	run: { metrics: 'metrics', log: 'log' }
} as const;

/** The root types a document of this name may have (SCHEMA1: the relay refuses others). */
export function schemaRoots(doc: DocName): ReadonlySet<string> {
	return doc.startsWith('run/') ? ROOTS.run : ROOTS[doc as Exclude<DocName, `run/${string}`>];
}

const rootsOf = (roots: Record<string, string>): ReadonlySet<string> =>
	new Set(Object.values(roots));
const ROOTS: Record<keyof typeof schema, ReadonlySet<string>> = {
	params: rootsOf(schema.params),
	code: rootsOf(schema.code),
	live: rootsOf(schema.live),
	run: rootsOf(schema.run)
};

export const VIEWS = ['dashboard', 'code_editor', 'data_table'] as const;
export type View = (typeof VIEWS)[number];

/** Hyperparameters every new workspace starts with. */
export const DEFAULT_HYPERPARAMETERS = {
	learning_rate: 0.01,
	batch_size: 16,
	epochs: 50,
	hidden_units: 16,
	optimizer: 'adam',
	validation_split: 0.2,
	seed: 42
} as const;
