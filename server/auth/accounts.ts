// Creating accounts and checking passwords: shared by the HTTP API and the
// `ensemble` command, so both apply the same rules.

import type { Clock } from '../runtime.ts';
import type { Storage, User } from '../storage/types.ts';
import { newId, type UserId } from '../protocol/ids.ts';
import { hashPassword, MIN_PASSWORD_LENGTH, verifyNothing, verifyPassword } from './passwords.ts';

export type AccountProblem = 'email_taken' | 'weak_password';

export function normalizeEmail(email: string): string {
	return email.trim().toLowerCase();
}

/**
 * Why a new password is refused, in a sentence naming the field, or null. Length
 * alone lets through "password1" and eight spaces: the commonest passwords
 * (zxcvbn-ts's ranked list of about 49,000) and passwords made of one repeated
 * character or only whitespace are refused too.
 */
export async function passwordProblem(password: string): Promise<string | null> {
	if (password.length < MIN_PASSWORD_LENGTH) {
		return `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`;
	}
	if (password.trim() === '') return 'The password cannot be only spaces.';
	if (/^(.)\1*$/su.test(password))
		return 'The password cannot be one character repeated; choose a longer phrase.';
	if (await isCommonPassword(password))
		return 'The password is one of the most common passwords, which are guessed first; choose another.';
	return null;
}

// The list (about 3 MB of heap) is loaded with the first password checked, not at start.
let common: Promise<ReadonlySet<string>> | null = null;

async function isCommonPassword(password: string): Promise<boolean> {
	common ??= import('@zxcvbn-ts/language-common').then(
		({ dictionary }) => new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()))
	);
	return (await common).has(password.trim().toLowerCase());
}

export async function createAccount(
	storage: Storage,
	clock: Clock,
	input: { name: string; email: string; password: string }
): Promise<{ ok: true; user: User } | { ok: false; problem: AccountProblem; message: string }> {
	const weak = await passwordProblem(input.password);
	if (weak) return { ok: false, problem: 'weak_password', message: weak };
	const email = normalizeEmail(input.email);
	if (await storage.getUserByEmail(email)) {
		return {
			ok: false,
			problem: 'email_taken',
			message: 'An account with this e-mail already exists.'
		};
	}
	const user: User = {
		id: newId<UserId>(),
		name: input.name.trim(),
		email,
		passwordHash: await hashPassword(input.password),
		createdAt: clock.now()
	};
	try {
		await storage.createUser(user);
	} catch (err) {
		// Two sign-ups with one address at once: the store's uniqueness decides, and the loser is told plainly.
		if (await storage.getUserByEmail(email)) {
			return {
				ok: false,
				problem: 'email_taken',
				message: 'An account with this e-mail already exists.'
			};
		}
		throw err;
	}
	return { ok: true, user };
}

/** The user when the password is right; null otherwise (same time either way). */
export async function checkPassword(
	storage: Storage,
	email: string,
	password: string
): Promise<User | null> {
	const user = await storage.getUserByEmail(normalizeEmail(email));
	if (!user) return verifyNothing(password).then(() => null);
	return (await verifyPassword(password, user.passwordHash)) ? user : null;
}

/** Sets a new password and signs the user out everywhere. */
export async function resetPassword(
	storage: Storage,
	user: UserId,
	password: string
): Promise<void> {
	await storage.setPassword(user, await hashPassword(password));
	await storage.deleteSessionsOf(user);
}
