// Chat: every member may talk (the seed's table has no chat permission). Clients
// cannot write `live`, so a message comes here; the server stamps the author and
// appends it to live's `chat` array, stored before anyone sees it. A client that
// queued a message offline may send it twice (the first response was lost): the
// optional `id` makes the retry a no-op instead of a duplicate.

import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as Y from 'yjs';
import { schema } from '../../protocol/docs.ts';
import { userColor } from '../../protocol/colors.ts';
import type { AppContext } from '../context.ts';
import { requireMember } from '../authn.ts';
import { errors, iso, WorkspaceParams } from '../schemas.ts';

/** How many recent messages a retry is checked against. */
const DEDUP_WINDOW = 500;

const ChatBody = Type.Object(
	{
		text: Type.String({ minLength: 1, maxLength: 4000, pattern: '\\S' }),
		id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' }))
	},
	{ additionalProperties: false }
);

const ChatMessageSchema = Type.Object({
	id: Type.String(),
	text: Type.String(),
	user: Type.Object({ id: Type.String(), name: Type.String(), color: Type.String() }),
	at: Type.String({ format: 'date-time' })
});

interface StoredChatMessage {
	id: string;
	text: string;
	user: { id: string; name: string; color: string };
	at: string;
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
					...errors(400, 401, 403, 404)
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
			const id = request.body.id ?? crypto.randomUUID();
			const message: StoredChatMessage = {
				id,
				text: request.body.text,
				user: { id: user.id, name: user.name, color: userColor(user.id) },
				at: iso(ctx.clock.now())
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
