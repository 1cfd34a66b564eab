// TypeBox schemas shared by the routes: they validate input (a failure is a 400
// naming the field) and describe output in the OpenAPI document.

import { Type } from '@sinclair/typebox';

export const ErrorSchema = Type.Object(
	{
		error: Type.Object({
			code: Type.String({ description: 'Stable, machine-readable reason' }),
			message: Type.String({ description: 'What went wrong and what to do, in words' })
		})
	},
	{ $id: 'Error' }
);

const errorRef = Type.Ref('Error');

/** Error responses a route may give, for the OpenAPI document. */
export function errors(...statuses: number[]): Record<number, typeof errorRef> {
	return Object.fromEntries(statuses.map((s) => [s, errorRef]));
}

export const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', maxLength: 64 });
export const RoleSchema = Type.Union([
	Type.Literal('owner'),
	Type.Literal('editor'),
	Type.Literal('viewer')
]);
export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const Password = Type.String({ minLength: 8, maxLength: 1024 });
export const PersonName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
export const WorkspaceName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

export const WorkspaceParams = Type.Object({ id: Id });
export const MemberParams = Type.Object({ id: Id, userId: Id });

export const UserSchema = Type.Object({
	id: Type.String(),
	name: Type.String(),
	email: Type.String(),
	color: Type.String()
});

export const WorkspaceSchema = Type.Object({
	id: Type.String(),
	name: Type.String(),
	role: RoleSchema,
	created_at: Type.String({ format: 'date-time' })
});

export const MemberSchema = Type.Object({
	id: Type.String(),
	name: Type.String(),
	email: Type.String(),
	color: Type.String(),
	role: RoleSchema,
	joined_at: Type.String({ format: 'date-time' })
});

export const iso = (ms: number): string => new Date(ms).toISOString();
