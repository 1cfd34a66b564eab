// Each role in a few words, for the invite dialog and the join page.

import type { Role } from '$shared/roles.ts';

export const ROLE_SUMMARY: Readonly<Record<Role, string>> = {
	owner: 'does everything, and invites people and changes their roles',
	editor: 'edits code, hyperparameters and data, and starts training',
	viewer: 'sees everything live and chats, but changes nothing'
};

/** The roles an invitation can give (owners are made in Members). */
export const INVITABLE_ROLES = ['editor', 'viewer'] as const satisfies readonly Role[];
