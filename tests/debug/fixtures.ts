// What the debugger's run tests share: a script that sums three epochs (a
// breakpoint on its line 5 sees `epoch` and `total`), and a run's debug session.

import type * as Y from 'yjs';
import { sessionsMap, type DebugSession } from '../../server/protocol/debug.ts';

export const TRAIN = [
	'import json',
	'total = 0',
	'for epoch in range(1, 4):',
	'    total += epoch',
	'    print(json.dumps({"epoch": epoch, "score": total}))'
].join('\n');

/** The debug session of a run, as `live` says, or null before it opened. */
export function sessionOf(doc: Y.Doc, run: string): DebugSession | null {
	return [...sessionsMap(doc).values()].find((s) => s.run === run) ?? null;
}
