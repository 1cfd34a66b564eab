// The seed's role and permission table, exactly. Checked by the HTTP API, by the
// relay at connect time, and again when a member's role changes.

export const ROLES = ['owner', 'editor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
	'view_workspace',
	'edit_hyperparameters',
	'start_training',
	'edit_code',
	'upload_data',
	'invite_users',
	'manage_permissions'
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
	owner: new Set(PERMISSIONS),
	editor: new Set([
		'view_workspace',
		'edit_hyperparameters',
		'start_training',
		'edit_code',
		'upload_data'
	]),
	viewer: new Set(['view_workspace'])
};

export function isRole(value: unknown): value is Role {
	return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function hasPermission(role: Role, permission: Permission): boolean {
	return ROLE_PERMISSIONS[role].has(permission);
}

/** Lower of two roles: the seed's `user_role` query parameter may lower a role, never raise it. */
export function lowerRole(a: Role, b: Role): Role {
	return ROLES.indexOf(a) >= ROLES.indexOf(b) ? a : b;
}
