// Random bearer tokens (sessions, invitations, API keys). Only their SHA-256
// hash is stored: they carry 256 bits of randomness, so a fast hash is enough,
// and a stolen database does not hand out working tokens.

import { createHash, randomBytes } from 'node:crypto';

export function newToken(): string {
	return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
	return createHash('sha256').update(token, 'utf8').digest('hex');
}

const API_KEY_PREFIX = 'ens_';

/** A new workspace API key, shown once to its creator (`ens_` + 43 characters). */
export function newApiKey(): string {
	return API_KEY_PREFIX + newToken();
}

/** What is stored for an API key and looked up with `getApiKeyByHash`. */
export function hashApiKey(key: string): string {
	return hashToken(key);
}

/** Cheap shape check before a lookup. */
export function looksLikeApiKey(value: string): boolean {
	return (
		value.startsWith(API_KEY_PREFIX) &&
		/^[A-Za-z0-9_-]{40,60}$/.test(value.slice(API_KEY_PREFIX.length))
	);
}
