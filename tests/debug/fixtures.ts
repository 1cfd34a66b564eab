// What the debugger's run tests share: a script that sums three epochs (a
// breakpoint on its line 5 sees `epoch` and `total`), a workspace running it with
// one shared breakpoint, starting a run there, and waiting for its pause.

import { expect } from 'vitest';
import type * as Y from 'yjs';
import { sessionsMap, type DebugSession } from '../../server/protocol/debug.ts';
import { makeTeam, type Team, type TestServer } from '../helpers/server.ts';
import { docReaches, type Peer } from '../helpers/yjs.ts';
import { setWorkspace, watchLive, type StartBody } from '../training/helpers.ts';

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

export interface DebugWorkspace {
	readonly team: Team;
	readonly ws: string;
	/** The owner's breakpoint. */
	readonly bp: string;
	readonly live: Peer;
}

/** A new team's workspace running TRAIN (3 epochs) with one breakpoint set by its owner, `live` watched. */
export async function debugWorkspace(
	server: TestServer,
	breakpoint: { readonly line: number; readonly condition?: string }
): Promise<DebugWorkspace> {
	const team = await makeTeam(server);
	const ws = team.workspace;
	await setWorkspace(server, team.owner, ws, { epochs: 3 }, { 'train.py': TRAIN });
	const bp = await team.owner.post<{ id: string }>(`/api/workspaces/${ws}/debug/breakpoints`, {
		file: 'train.py',
		...breakpoint
	});
	expect(bp.status, JSON.stringify(bp.body)).toBe(201);
	return { team, ws, bp: bp.body.id, live: await watchLive(server, team.owner, ws) };
}

/** Starts a run (`body`: where it runs) as the owner; its id. */
export async function startRun(w: DebugWorkspace, body: Record<string, unknown>): Promise<string> {
	const start = await w.team.owner.post<StartBody>(`/api/workspaces/${w.ws}/runs`, body);
	expect(start.status, JSON.stringify(start.body)).toBeLessThan(300);
	return start.body.run.id;
}

/** The run's session once everyone sees it paused. */
export async function pausedSession(w: DebugWorkspace, run: string): Promise<DebugSession> {
	await docReaches(
		w.live.doc,
		(d) => sessionOf(d, run)?.status === 'paused',
		`run ${run} paused`,
		60_000
	);
	const session = sessionOf(w.live.doc, run);
	if (!session) throw new Error(`run ${run} has no session`);
	return session;
}
