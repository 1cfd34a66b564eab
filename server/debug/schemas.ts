// What a debugged script reports (its "events") and what people send, as TypeBox
// schemas: the HTTP routes validate with them, and so does the sandbox's pipe
// (the script is untrusted either way). Sizes are bounded here, once.

import { Type, type Static } from '@sinclair/typebox';
import { DEBUG_COMMANDS } from '../protocol/debug.ts';

const Short = (max: number) => Type.String({ maxLength: max });
const Line = Type.Integer({ minimum: 1, maximum: 10_000_000 });

const Variable = Type.Object({ name: Short(200), value: Short(2000), type: Short(200) });
const Frame = Type.Object({
	file: Short(500),
	line: Line,
	function: Short(200),
	locals: Type.Array(Variable, { maxItems: 100 })
});
const Hits = Type.Record(Type.String({ maxLength: 64 }), Type.Integer({ minimum: 0 }));

export const ScriptEvent = Type.Union([
	Type.Object({
		t: Type.Literal('paused'),
		file: Short(500),
		line: Line,
		reason: Type.Union([Type.Literal('breakpoint'), Type.Literal('step')]),
		breakpoint: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
		stack: Type.Array(Frame, { maxItems: 50 }),
		hits: Type.Optional(Hits)
	}),
	Type.Object({ t: Type.Literal('running'), hits: Type.Optional(Hits) }),
	Type.Object({
		t: Type.Literal('result'),
		seq: Type.Integer({ minimum: 1 }),
		expression: Short(2000),
		value: Type.Union([Short(4000), Type.Null()]),
		error: Type.Union([Short(2000), Type.Null()])
	}),
	Type.Object({ t: Type.Literal('ended'), note: Type.Optional(Short(500)) })
]);
export type ScriptEvent = Static<typeof ScriptEvent>;

export const CommandBody = Type.Object({
	command: Type.Union(DEBUG_COMMANDS.map((c) => Type.Literal(c))),
	expression: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 }))
});

const Person = Type.Object({
	id: Type.String(),
	name: Type.String(),
	color: Type.Optional(Type.String())
});

export const ResolvedBreakpointSchema = Type.Object({
	id: Type.String(),
	file: Type.String(),
	line: Type.Integer(),
	by: Person,
	condition: Type.Union([Type.String(), Type.Null()]),
	hitCount: Type.Integer()
});

export const CommandSchema = Type.Object({
	seq: Type.Integer(),
	command: Type.String(),
	expression: Type.Optional(Type.String()),
	by: Person,
	at: Type.Number()
});
