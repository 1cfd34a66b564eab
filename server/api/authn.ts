// Who is asking, and may they: the session cookie, the Origin check, and the
// membership/permission check every workspace route goes through.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { Storage, User, Workspace } from '../storage/types.ts';
import { parseWorkspaceId } from '../protocol/ids.ts';
import { hasPermission, type Permission, type Role } from '../protocol/roles.ts';
import { SESSION_COOKIE } from '../auth/sessions.ts';
import type { AppContext } from './context.ts';
import { ApiError } from './errors.ts';

/**
 * A browser always sends Origin on WebSocket upgrades and cross-origin POSTs; it
 * must be this server itself (its Host) or PUBLIC_URL. Without Origin (scripts,
 * curl) there is no cross-site request to fear.
 */
export function originAllowed(headers: IncomingHttpHeaders, publicUrl: string | null): boolean {
	const origin = headers.origin;
	if (origin === undefined) return true;
	if (publicUrl !== null && origin === publicUrl) return true;
	try {
		return new URL(origin).host === headers.host;
	} catch {
		return false;
	}
}

export async function currentUser(ctx: AppContext, request: FastifyRequest): Promise<User | null> {
	return ctx.sessions.resolve(request.cookies[SESSION_COOKIE]);
}

export async function requireUser(ctx: AppContext, request: FastifyRequest): Promise<User> {
	const user = await currentUser(ctx, request);
	if (!user) throw new ApiError(401, 'unauthenticated', 'Sign in first (no valid session cookie).');
	return user;
}

export async function loadWorkspace(storage: Storage, raw: string): Promise<Workspace> {
	const id = parseWorkspaceId(raw);
	const workspace = id ? await storage.getWorkspace(id) : null;
	if (!workspace) throw new ApiError(404, 'not_found', `No workspace with id "${raw}".`);
	return workspace;
}

export interface MemberAccess {
	readonly user: User;
	readonly workspace: Workspace;
	readonly role: Role;
}

/** 401 signed out, 404 no such workspace, 403 not a member or the role lacks `permission`. */
export async function requireMember(
	ctx: AppContext,
	request: FastifyRequest,
	rawWorkspace: string,
	permission: Permission
): Promise<MemberAccess> {
	const user = await requireUser(ctx, request);
	const workspace = await loadWorkspace(ctx.storage, rawWorkspace);
	const member = await ctx.storage.getMember(workspace.id, user.id);
	if (!member) throw new ApiError(403, 'forbidden', 'You are not a member of this workspace.');
	if (!hasPermission(member.role, permission)) {
		throw new ApiError(
			403,
			'forbidden',
			`Your role (${member.role}) does not have the ${permission} permission.`
		);
	}
	return { user, workspace, role: member.role };
}

export function setSessionCookie(
	ctx: AppContext,
	request: FastifyRequest,
	reply: FastifyReply,
	token: string,
	expiresAt: number
): void {
	const secure =
		ctx.config.publicUrl?.startsWith('https:') === true || request.protocol === 'https';
	reply.setCookie(SESSION_COOKIE, token, {
		httpOnly: true,
		sameSite: 'lax',
		secure,
		path: '/',
		expires: new Date(expiresAt)
	});
}

export function clearSessionCookie(reply: FastifyReply): void {
	reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
