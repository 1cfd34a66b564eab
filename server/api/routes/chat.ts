// Chat: every member may talk (the seed's table has no chat permission). Clients
// cannot write `live`, so a message comes here; the server stamps the author and
// appends it to live's `chat` array, stored before anyone sees it. A client that
// queued a message offline may send it twice (the first response was lost): the
// optional `id` makes the retry a no-op instead of a duplicate.
// Chat is limited per person and workspace (SEC6): every message stays in
// live's history and is downloaded by everyone who opens the workspace, so one
// member must not be able to grow it without bound. Clients cannot write live
// over the relay (server-only, ACCESS1): this route is the only way in.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as Y from 'yjs';
import { schema } from '../../protocol/docs.ts';
import { userColor } from '../../protocol/colors.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { TokenBucket } from '../../relay/limits.ts';
import { requireMember } from '../authn.ts';
import { errors, iso, WorkspaceParams } from '../schemas.ts';

/** How many recent messages a retry is checked against. */
const DEDUP_WINDOW = 500;

/** The longest message, in UTF-16 units (the chat box's own limit; at most about 6 KB of UTF-8). */
const CHAT_MAX_CHARS = 2000;
/** Per person and workspace: a burst of messages, then one every `1 / rate` seconds. */
const CHAT_BURST = 10;
const CHAT_PER_SECOND = 0.5;
/** Per person and workspace: bytes of text (UTF-8), a burst then a steady rate. */
const CHAT_BYTE_BURST = 16 * 1024;
const CHAT_BYTES_PER_SECOND = 512;
/** Senders remembered at most (idle ones are forgotten first). */
const MAX_SENDERS = 10_000;

interface Sender {
	readonly messages: TokenBucket;
	readonly bytes: TokenBucket;
	last: number;
}

/** Milliseconds until this sender may post `bytes` more, or 0 (then the tokens are taken). */
class ChatLimiter {
	readonly #senders = new Map<string, Sender>();

	admit(key: string, bytes: number, now: number): number {
		let sender = this.#senders.get(key);
		if (!sender) {
			if (this.#senders.size >= MAX_SENDERS) this.#forgetIdle(now);
			sender = {
				messages: new TokenBucket(CHAT_PER_SECOND, CHAT_BURST, now),
				bytes: new TokenBucket(CHAT_BYTES_PER_SECOND, CHAT_BYTE_BURST, now),
				last: now
			};
			this.#senders.set(key, sender);
		}
		sender.last = now;
		const wait = Math.max(sender.messages.waitMs(now), sender.bytes.waitMs(now, bytes));
		if (wait > 0) return wait;
		sender.messages.take(now);
		sender.bytes.take(now, bytes);
		return 0;
	}

	#forgetIdle(now: number): void {
		// Idle for a minute means both buckets are full again: forgetting them changes nothing.
		for (const [key, sender] of this.#senders)
			if (now - sender.last > 60_000) this.#senders.delete(key);
		for (const key of this.#senders.keys()) {
			if (this.#senders.size < MAX_SENDERS) break;
			this.#senders.delete(key);
		}
	}
}

const ChatBody = Type.Object(
	{
		text: Type.String({ minLength: 1, maxLength: CHAT_MAX_CHARS, pattern: '\\S' }),
		id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' })),
		/** When it was written (ms since the epoch): an offline outbox sends it later (CHAT5). */
		written_at: Type.Optional(Type.Integer({ minimum: 0 }))
	},
	{ additionalProperties: false }
);

const ChatMessageSchema = Type.Object({
	id: Type.String(),
	text: Type.String(),
	user: Type.Object({ id: Type.String(), name: Type.String(), color: Type.String() }),
	at: Type.String({ format: 'date-time' }),
	received_at: Type.Optional(Type.String({ format: 'date-time' }))
});

/** A message written offline keeps its time if it is at most this old (older: the arrival time). */
const MAX_WRITTEN_AGE_MS = 30 * 24 * 60 * 60 * 1000;

/** The time shown for a message: when it was written, never in the future nor too long ago. */
function writtenAt(now: number, written: number | undefined): number {
	if (written === undefined || written > now || now - written > MAX_WRITTEN_AGE_MS) return now;
	return written;
}

interface StoredChatMessage {
	id: string;
	text: string;
	user: { id: string; name: string; color: string };
	at: string;
	/** When the server got it, if that was later than `at` (written offline). */
	received_at?: string;
}

function findRecent(chat: Y.Array<unknown>, id: string): StoredChatMessage | null {
	for (let i = chat.length - 1; i >= Math.max(0, chat.length - DEDUP_WINDOW); i--) {
		const entry = chat.get(i) as Partial<StoredChatMessage> | undefined;
		if (entry?.id === id) return entry as StoredChatMessage;
	}
	return null;
}

export function chatRoutes(app: FastifyInstance, ctx: AppContext): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();
	const limiter = new ChatLimiter();

	api.post(
		'/api/workspaces/:id/chat',
		{
			schema: {
				tags: ['workspaces'],
				summary: 'Send a chat message to everyone in the workspace (any member)',
				params: WorkspaceParams,
				body: ChatBody,
				response: {
					201: Type.Object({ message: ChatMessageSchema }),
					200: Type.Object({ message: ChatMessageSchema }),
					...errors(400, 401, 403, 404, 429)
				}
			}
		},
		async (request, reply) => {
			const { workspace, user } = await requireMember(
				ctx,
				request,
				request.params.id,
				'view_workspace'
			);
			const bytes = Buffer.byteLength(request.body.text, 'utf8');
			const wait = limiter.admit(`${workspace.id}/${user.id}`, bytes, ctx.clock.now());
			if (wait > 0) {
				const seconds = Math.ceil(wait / 1000);
				throw new ApiError(
					429,
					'rate_limited',
					`You are sending messages too fast; the next one can go in ${seconds} s.`,
					{ 'retry-after': String(seconds) }
				);
			}
			const id = request.body.id ?? crypto.randomUUID();
			const now = ctx.clock.now();
			const at = writtenAt(now, request.body.written_at);
			const message: StoredChatMessage = {
				id,
				text: request.body.text,
				user: { id: user.id, name: user.name, color: userColor(user.id) },
				at: iso(at),
				...(at < now ? { received_at: iso(now) } : {})
			};
			let existing: StoredChatMessage | null = null;
			await ctx.relay.write({ workspace: workspace.id, doc: 'live' }, user.id, (doc) => {
				const chat = doc.getArray<unknown>(schema.live.chat);
				existing = request.body.id ? findRecent(chat, id) : null;
				if (!existing) chat.push([message]);
			});
			if (existing) return reply.code(200).send({ message: existing });
			return reply.code(201).send({ message });
		}
	);
}
