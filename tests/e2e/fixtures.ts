// Shared helpers: one browser context (own cookies, IndexedDB, service worker)
// per person, so nothing syncs except through the server.
import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';

export interface Person {
	readonly name: string;
	readonly email: string;
	readonly password: string;
	readonly context: BrowserContext;
	readonly page: Page;
	/**
	 * Content-Security-Policy violations Chromium reported in this person's
	 * pages and workers. Any left at the end fails the test (CSP1).
	 */
	readonly cspViolations: string[];
}

/** Chromium reports each CSP violation as a console error starting like this. */
const CSP_VIOLATION =
	/Content Security Policy|Refused to (load|execute|apply|connect|create|frame)/;

interface People {
	/** A new person with their own browser context; signed up when `signUp` is true. */
	add(name: string, options?: { signUp?: boolean }): Promise<Person>;
}

let counter = 0;

export const test = base.extend<{ people: People }>({
	// eslint-disable-next-line no-empty-pattern -- Playwright fixtures take their dependencies by destructuring
	baseURL: async ({}, use) => {
		const url = process.env.ENSEMBLE_URL;
		if (!url) throw new Error('ENSEMBLE_URL is not set: the global setup did not start the server');
		await use(url);
	},
	people: async ({ browser, baseURL }, use, testInfo) => {
		const created: Person[] = [];
		await use({
			async add(name, options = {}) {
				const context = await browser.newContext({ baseURL });
				const cspViolations: string[] = [];
				context.on('console', (message) => {
					if (message.type() === 'error' && CSP_VIOLATION.test(message.text()))
						cspViolations.push(message.text());
				});
				const page = await context.newPage();
				const email = `${name.toLowerCase()}-${process.pid}-${++counter}-${Date.now()}@example.test`;
				const person = {
					name,
					email,
					password: 'correct horse battery',
					context,
					page,
					cspViolations
				};
				created.push(person);
				if (options.signUp !== false) await signUp(person);
				return person;
			}
		});
		// Screenshots of every person's page when a test fails.
		if (testInfo.status !== testInfo.expectedStatus) {
			for (const p of created) {
				if (p.page.isClosed()) continue;
				await testInfo.attach(`${p.name}.png`, {
					body: await p.page.screenshot({ fullPage: true }),
					contentType: 'image/png'
				});
			}
		}
		for (const p of created) await p.context.close();
		// Every end-to-end test doubles as a check of the app's CSP (CSP1).
		const violations = created.flatMap((p) => p.cspViolations.map((v) => `${p.name}: ${v}`));
		expect(violations, 'Content-Security-Policy violations').toEqual([]);
	}
});

export { expect };

export async function signUp(p: Person, next = ''): Promise<void> {
	await p.page.goto(next ? `/signup?next=${encodeURIComponent(next)}` : '/signup');
	await p.page.getByLabel('Name').fill(p.name);
	await p.page.getByLabel('E-mail').fill(p.email);
	await p.page.getByLabel('Password').fill(p.password);
	await p.page.getByRole('button', { name: 'Sign up' }).click();
	if (!next) await expect(p.page.getByRole('heading', { name: 'Your workspaces' })).toBeVisible();
}

export async function createWorkspace(p: Person, name: string): Promise<string> {
	await p.page.goto('/');
	await p.page.getByLabel('Name').fill(name);
	await p.page.getByRole('button', { name: 'Create' }).click();
	await p.page.waitForURL(/\/w\/[^/]+$/);
	await expectLive(p.page);
	return new URL(p.page.url()).pathname.split('/').pop() ?? '';
}

/** Creates an invite link in the owner's page and returns it. */
export async function inviteLink(owner: Person, email: string, role: string): Promise<string> {
	const page = owner.page;
	await page.getByRole('button', { name: 'Invite' }).click();
	await page.getByLabel('E-mail').fill(email);
	await page.getByLabel('Role').selectOption(role);
	await page.getByRole('button', { name: 'Create invite link' }).click();
	const link = await page.getByTestId('invite-link').inputValue();
	await page.getByRole('button', { name: 'Close' }).click();
	return link;
}

/** Opens an invite link as `p` (already signed up) and waits for the workspace. */
export async function join(p: Person, link: string): Promise<void> {
	await p.page.goto(link);
	await p.page.waitForURL(/\/w\/[^/]+$/);
	await expectLive(p.page);
}

export async function expectLive(page: Page): Promise<void> {
	await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'saved');
}

/** A workspace with an owner and a second person who joined by link with `role`. */
export async function twoPeople(
	people: People,
	role: 'editor' | 'viewer' = 'editor'
): Promise<{ alice: Person; bob: Person; id: string }> {
	const alice = await people.add('Alice');
	const bob = await people.add('Bob');
	const id = await createWorkspace(alice, `Experiment ${counter}`);
	await join(bob, await inviteLink(alice, bob.email, role));
	return { alice, bob, id };
}

/** The text Monaco shows (its rendered lines, non-breaking spaces as spaces). */
export async function editorText(page: Page): Promise<string> {
	const text = await page.locator('.monaco-editor .view-lines').innerText();
	return text.replace(/\u00a0/g, ' ');
}

export async function openCode(page: Page): Promise<void> {
	await page.getByRole('button', { name: 'Code', exact: true }).click();
	await expect(page.locator('.monaco-editor .view-lines')).toBeVisible();
}
