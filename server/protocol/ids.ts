// Branded identifiers: parsed once at the edge (HTTP params, WebSocket paths),
// trusted inside. A plain string cannot be passed where one of these is expected.

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type WorkspaceId = Brand<string, 'WorkspaceId'>;
export type UserId = Brand<string, 'UserId'>;
export type RunId = Brand<string, 'RunId'>;

/** Every id on the wire, in paths and in exports: URL-safe, never a path of its own. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function parseWorkspaceId(value: string): WorkspaceId | null {
	return ID_PATTERN.test(value) ? (value as WorkspaceId) : null;
}

export function parseUserId(value: string): UserId | null {
	return ID_PATTERN.test(value) ? (value as UserId) : null;
}

export function parseRunId(value: string): RunId | null {
	return ID_PATTERN.test(value) ? (value as RunId) : null;
}

/** A random, URL-safe identifier (128 bits) for new workspaces, users and runs. */
export function newId<T extends WorkspaceId | UserId | RunId>(): T {
	const bytes = new Uint8Array(16);
	crypto.getRandomValues(bytes);
	let out = '';
	for (const b of bytes) out += ALPHABET[b & 63];
	return out.slice(0, 22) as T;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
