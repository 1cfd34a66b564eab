// Messages a client of the seed's JSON protocol may send, validated with TypeBox
// before anything looks at them (COMPAT10). The seed's own messages keep their
// names and fields; `text_op` and `text_sync` are Ensemble's additions.

import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { VIEWS } from '../protocol/docs.ts';
import type { Operation } from './ot.ts';

const Position = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const FileName = Type.String({ minLength: 1, maxLength: 256 });

const InsertOp = Type.Object(
	{
		type: Type.Literal('insert'),
		position: Position,
		data: Type.String({ minLength: 1 })
	},
	{ additionalProperties: false }
);
const DeleteOp = Type.Object(
	{
		type: Type.Literal('delete'),
		position: Position,
		/** The seed deleted one character; a length deletes more. */
		length: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }))
	},
	{ additionalProperties: false }
);
const RetainOp = Type.Object(
	{ type: Type.Literal('retain'), position: Position },
	{ additionalProperties: false }
);

const schemas = {
	ping: Type.Object({ type: Type.Literal('ping') }),
	state_update: Type.Object({
		type: Type.Literal('state_update'),
		path: Type.String({ minLength: 1, maxLength: 512 }),
		value: Type.Unknown()
	}),
	presence_update: Type.Object({
		type: Type.Literal('presence_update'),
		updates: Type.Object(
			{
				current_view: Type.Optional(Type.Union(VIEWS.map((v) => Type.Literal(v)))),
				cursor_position: Type.Optional(Type.Unknown())
			},
			{ additionalProperties: false }
		)
	}),
	cursor_position: Type.Object({
		type: Type.Literal('cursor_position'),
		position: Type.Unknown(),
		view: Type.Optional(Type.Union(VIEWS.map((v) => Type.Literal(v))))
	}),
	text_op: Type.Object({
		type: Type.Literal('text_op'),
		file: FileName,
		revision: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
		ops: Type.Array(Type.Union([InsertOp, DeleteOp, RetainOp]), { maxItems: 1000 })
	}),
	text_sync: Type.Object({ type: Type.Literal('text_sync'), file: FileName })
} satisfies Record<string, TSchema>;

type Schemas = typeof schemas;
export type ClientMessageType = keyof Schemas;
export type ClientMessage = { [K in ClientMessageType]: Static<Schemas[K]> }[ClientMessageType];
export type TextOpMessage = Static<Schemas['text_op']>;

const checkers = Object.fromEntries(
	Object.entries(schemas).map(([k, s]) => [k, TypeCompiler.Compile(s)])
) as { [K in ClientMessageType]: ReturnType<typeof TypeCompiler.Compile<Schemas[K]>> };

export type ErrorCode =
	| 'invalid_json'
	| 'invalid_message'
	| 'unknown_type'
	| 'forbidden'
	| 'invalid_path'
	| 'read_only_path'
	| 'value_too_large'
	| 'value_too_deep'
	| 'invalid_op'
	| 'stale_revision'
	| 'future_revision'
	| 'not_a_text_file'
	| 'unavailable'
	| 'not_saved';

export type Parsed =
	| { readonly ok: true; readonly message: ClientMessage }
	| { readonly ok: false; readonly code: ErrorCode; readonly message: string };

function isType(t: string): t is ClientMessageType {
	return Object.hasOwn(checkers, t);
}

/** Parses one text frame. Never throws. */
export function parseClientMessage(text: string): Parsed {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		return { ok: false, code: 'invalid_json', message: 'the message is not valid JSON' };
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		return { ok: false, code: 'invalid_message', message: 'a message is a JSON object' };
	}
	const type = (value as { type?: unknown }).type;
	if (typeof type !== 'string') {
		return { ok: false, code: 'invalid_message', message: 'a message needs a string "type"' };
	}
	if (!isType(type)) {
		return {
			ok: false,
			code: 'unknown_type',
			message: `unknown message type "${type.slice(0, 64)}"; known: ${Object.keys(checkers).join(', ')}`
		};
	}
	const checker = checkers[type];
	if (!checker.Check(value)) {
		const first = checker.Errors(value).First();
		const where = first?.path || '/';
		return {
			ok: false,
			code: 'invalid_message',
			message: `${type}: ${where} ${first?.message ?? 'is invalid'}`
		};
	}
	return { ok: true, message: value };
}

/** The wire form of operations (a delete's length defaults to 1, as in the seed). */
export function toOperations(ops: TextOpMessage['ops']): Operation[] {
	return ops.map((op) =>
		op.type === 'delete'
			? { type: 'delete', position: op.position, length: op.length ?? 1 }
			: op.type === 'insert'
				? { type: 'insert', position: op.position, data: op.data }
				: { type: 'retain', position: op.position }
	);
}
