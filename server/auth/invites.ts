// Workspace invitations: a random token (stored hashed) bound to a workspace and
// a role, single use, with an expiry. Each way a token can be refused has its
// own code, so the person holding it is told which.

import type { Clock } from '../runtime.ts';
import type { Invite, Storage } from '../storage/types.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';
import type { Role } from '../protocol/roles.ts';
import { hashToken, newToken } from './tokens.ts';

export type InviteProblem = 'invite_invalid' | 'invite_expired' | 'invite_used' | 'invite_foreign';

export const INVITE_PROBLEMS: Readonly<Record<InviteProblem, string>> = {
	invite_invalid: 'This invitation token is not valid (it was never issued or was altered).',
	invite_expired: 'This invitation has expired; ask the owner for a new one.',
	invite_used: 'This invitation has already been used.',
	invite_foreign: 'This invitation is for another workspace.'
};

export type InviteCheck =
	| { readonly ok: true; readonly invite: Invite }
	| { readonly ok: false; readonly problem: InviteProblem };

export type InviteAcceptance =
	| { readonly ok: true; readonly role: Role; readonly workspace: WorkspaceId }
	| { readonly ok: false; readonly problem: InviteProblem };

/** What the holder of a valid invitation may see before joining (INVITE5). */
export interface InvitePreview {
	readonly workspace: { readonly id: WorkspaceId; readonly name: string };
	readonly invitedBy: string;
	readonly role: Role;
	readonly email: string;
	readonly expiresAt: number;
}

export type InvitePreviewResult =
	| { readonly ok: true; readonly preview: InvitePreview }
	| { readonly ok: false; readonly problem: InviteProblem };

export interface CreateInvite {
	readonly workspace: WorkspaceId;
	readonly email: string;
	readonly role: Role;
	readonly createdBy: UserId;
	readonly ttlMs: number;
}

export class Invites {
	readonly #storage: Storage;
	readonly #clock: Clock;

	constructor(storage: Storage, clock: Clock) {
		this.#storage = storage;
		this.#clock = clock;
	}

	async create(input: CreateInvite): Promise<{ token: string; expiresAt: number }> {
		const token = newToken();
		const expiresAt = this.#clock.now() + input.ttlMs;
		await this.#storage.createInvite({
			tokenHash: hashToken(token),
			workspace: input.workspace,
			email: input.email,
			role: input.role,
			createdBy: input.createdBy,
			expiresAt,
			usedAt: null
		});
		return { token, expiresAt };
	}

	/** Checks a token without using it; `workspace` null accepts any workspace (sign-up by invitation). */
	async check(token: string, workspace: WorkspaceId | null): Promise<InviteCheck> {
		if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return { ok: false, problem: 'invite_invalid' };
		const invite = await this.#storage.getInvite(hashToken(token));
		if (!invite) return { ok: false, problem: 'invite_invalid' };
		if (workspace !== null && invite.workspace !== workspace) {
			return { ok: false, problem: 'invite_foreign' };
		}
		if (invite.usedAt !== null) return { ok: false, problem: 'invite_used' };
		if (invite.expiresAt <= this.#clock.now()) return { ok: false, problem: 'invite_expired' };
		return { ok: true, invite };
	}

	/**
	 * Which workspace, who invited and with which role, for the join page. Only a
	 * token that would be accepted reveals anything: the holder of the link
	 * learns no more than the invitation told them, and nobody else learns a thing.
	 */
	async preview(token: string, workspace: WorkspaceId): Promise<InvitePreviewResult> {
		const checked = await this.check(token, workspace);
		if (!checked.ok) return checked;
		const { invite } = checked;
		const [space, inviter] = await Promise.all([
			this.#storage.getWorkspace(invite.workspace),
			this.#storage.getUserById(invite.createdBy)
		]);
		if (!space) return { ok: false, problem: 'invite_invalid' };
		return {
			ok: true,
			preview: {
				workspace: { id: space.id, name: space.name },
				invitedBy: inviter?.name ?? 'a former member',
				role: invite.role,
				email: invite.email,
				expiresAt: invite.expiresAt
			}
		};
	}

	/**
	 * Uses the invitation for `user`. Someone already a member keeps their role
	 * (an invitation never demotes an owner) and the invitation stays unused.
	 */
	async accept(
		token: string,
		workspace: WorkspaceId | null,
		user: UserId
	): Promise<InviteAcceptance> {
		const checked = await this.check(token, workspace);
		if (!checked.ok) return checked;
		const { invite } = checked;
		const existing = await this.#storage.getMember(invite.workspace, user);
		if (existing) return { ok: true, role: existing.role, workspace: invite.workspace };
		const now = this.#clock.now();
		if (!(await this.#storage.useInvite(invite.tokenHash, now))) {
			return { ok: false, problem: 'invite_used' };
		}
		await this.#storage.putMember({
			workspace: invite.workspace,
			userId: user,
			role: invite.role,
			joinedAt: now
		});
		return { ok: true, role: invite.role, workspace: invite.workspace };
	}
}
