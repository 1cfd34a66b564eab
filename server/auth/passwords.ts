// Password hashing with scrypt (node:crypto), a random salt per user, and a
// constant-time comparison. The stored form names its parameters so they can
// be raised later without breaking existing hashes.

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 64;
const PARAMS = { N: 16384, r: 8, p: 1 } as const;
/** Enough memory for N=16384, r=8 (128 * N * r = 16 MiB) plus headroom. */
const MAX_MEM = 64 * 1024 * 1024;

export const MIN_PASSWORD_LENGTH = 8;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		scrypt(
			password.normalize('NFKC'),
			salt,
			KEY_LENGTH,
			{ ...options, maxmem: MAX_MEM },
			(err, key) => (err ? reject(err) : resolve(key))
		);
	});
}

/** `scrypt$N$r$p$salt$hash` (salt and hash in base64url). */
export async function hashPassword(password: string): Promise<string> {
	const salt = randomBytes(16);
	const key = await derive(password, salt, PARAMS);
	return [
		'scrypt',
		PARAMS.N,
		PARAMS.r,
		PARAMS.p,
		salt.toString('base64url'),
		key.toString('base64url')
	].join('$');
}

/** False for a wrong password or a stored hash it cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
	const parts = stored.split('$');
	if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
	const [N, r, p] = parts.slice(1, 4).map(Number);
	if (!N || !r || !p) return false;
	const salt = Buffer.from(parts[4] ?? '', 'base64url');
	const expected = Buffer.from(parts[5] ?? '', 'base64url');
	if (expected.length !== KEY_LENGTH) return false;
	const key = await derive(password, salt, { N, r, p });
	return timingSafeEqual(key, expected);
}

let dummyHash: Promise<string> | null = null;

/**
 * Spends the time of a real check when the account does not exist, so response
 * timing does not tell which e-mail addresses have accounts. Always false.
 */
export async function verifyNothing(password: string): Promise<false> {
	dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
	await verifyPassword(password, await dummyHash);
	return false;
}
