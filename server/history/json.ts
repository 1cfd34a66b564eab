// Shapes shared by history's endpoints: times in, entries and names out.

import type { AppContext } from '../api/context.ts';
import { iso } from '../api/schemas.ts';
import type { UserId } from '../protocol/ids.ts';
import type { ActivityRecord } from '../storage/types.ts';
import { HistoryError } from './service.ts';

export function parseMoment(raw: string): number {
	const ms = Date.parse(raw);
	if (!Number.isFinite(ms))
		throw new HistoryError(
			400,
			'bad_time',
			`"${raw}" is not a time (use ISO 8601, e.g. 2026-12-05T14:03:00Z).`
		);
	return ms;
}

/** Names for the users of some entries (one lookup each). */
export async function namesOf(
	ctx: AppContext,
	users: Iterable<UserId | null>
): Promise<Map<string, string>> {
	const names = new Map<string, string>();
	for (const id of new Set(users)) {
		if (id !== null && !names.has(id))
			names.set(id, (await ctx.storage.getUserById(id))?.name ?? 'Someone');
	}
	return names;
}

export function entryJson(e: ActivityRecord, names: Map<string, string>) {
	return {
		id: e.id,
		at: iso(e.at),
		user: e.user === null ? null : { id: e.user, name: names.get(e.user) ?? 'Someone' },
		kind: e.kind,
		summary: e.summary,
		data: e.data
	};
}
