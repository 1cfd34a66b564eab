// Shared types for tests that need "some text or list" in a document clients
// write (`params`, `code`). The relay refuses updates that add a root type the
// document's schema does not have (SCHEMA1), so these live under schema root
// names. A root's type is not on the wire (only its name is), so a Text or an
// Array under a schema name is what the relay checks and stores like the app's
// maps; tests of the app's own content use the app's types instead.

import type * as Y from 'yjs';
import { schema } from '../../server/protocol/docs.ts';

export type WritableDoc = 'params' | 'code';

const TEXT_ROOT = { params: schema.params.config, code: schema.code.files } as const;
const LIST_ROOT = { params: schema.params.hyperparameters, code: schema.code.breakpoints } as const;

/** Root name of the scratch text of a `params` or `code` document. */
export function textRoot(kind: WritableDoc = 'params'): string {
	return TEXT_ROOT[kind];
}

/** A shared text in a `params` or `code` document, under a schema root name. */
export function scratchText(doc: Y.Doc, kind: WritableDoc = 'params'): Y.Text {
	return doc.getText(TEXT_ROOT[kind]);
}

/** A shared map in a `params` or `code` document (another root than the text's; the list's). */
export function scratchMap<T = unknown>(doc: Y.Doc, kind: WritableDoc = 'params'): Y.Map<T> {
	return doc.getMap<T>(LIST_ROOT[kind]);
}

/** Which writable document a room name or socket URL is for (`…/code`, `…/code?…`). */
export function docKind(roomOrUrl: string): WritableDoc {
	return /\/code(\?|$)/.test(roomOrUrl) ? 'code' : 'params';
}

/** A shared list in a `params` or `code` document (another root than the text's). */
export function scratchList<T = unknown>(doc: Y.Doc, kind: WritableDoc = 'params'): Y.Array<T> {
	return doc.getArray<T>(LIST_ROOT[kind]);
}
