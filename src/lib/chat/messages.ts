// Chat messages as the server writes them into live's `chat` Y.Array. The shape
// is read leniently (the server stamps the author; field names may vary).

import { userColor } from '$shared/colors.ts';

export interface ChatMessage {
	readonly key: string;
	readonly text: string;
	readonly authorId: string;
	readonly authorName: string;
	readonly color: string;
	/** ms since the epoch, or null when unknown. */
	readonly at: number | null;
}

function str(v: unknown): string | null {
	return typeof v === 'string' ? v : null;
}

function time(v: unknown): number | null {
	if (typeof v === 'number' && Number.isFinite(v)) return v < 1e12 ? v * 1000 : v;
	if (typeof v === 'string') {
		const t = Date.parse(v);
		return Number.isNaN(t) ? null : t;
	}
	return null;
}

export function readChatMessage(value: unknown, index: number): ChatMessage | null {
	let v: unknown = value;
	// A Y.Map entry reads through toJSON.
	if (v && typeof v === 'object' && 'toJSON' in v && typeof v.toJSON === 'function')
		v = (v.toJSON as () => unknown)();
	if (typeof v !== 'object' || v === null) return null;
	const m = v as Record<string, unknown>;
	const text = str(m.text);
	if (text === null) return null;
	const user = (typeof m.user === 'object' && m.user !== null ? m.user : m.author) as
		Record<string, unknown> | undefined;
	const authorId =
		str(user?.id) ?? str(m.user_id) ?? str(m.author_id) ?? str(m.userId) ?? 'unknown';
	const authorName =
		str(user?.name) ?? str(m.user_name) ?? str(m.author_name) ?? str(m.name) ?? 'Someone';
	return {
		key: str(m.id) ?? `${index}`,
		text,
		authorId,
		authorName,
		color: str(user?.color) ?? str(m.color) ?? userColor(authorId),
		at: time(m.at ?? m.time ?? m.created_at ?? m.timestamp)
	};
}
