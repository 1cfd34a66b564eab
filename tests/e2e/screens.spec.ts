// Every screen, at a laptop and a tablet width: asserts what each must show and
// saves a screenshot to test-results/screens/ for a person to look at.
import { test, expect, createWorkspace, inviteLink, openCode } from './fixtures.ts';
import type { Page } from '@playwright/test';

const WIDTHS = { laptop: { width: 1366, height: 860 }, tablet: { width: 820, height: 1180 } };

async function shoot(page: Page, name: string): Promise<void> {
	for (const [label, size] of Object.entries(WIDTHS)) {
		await page.setViewportSize(size);
		await page.screenshot({ path: `test-results/screens/${name}-${label}.png`, fullPage: true });
	}
	await page.setViewportSize(WIDTHS.laptop);
}

test('[APP5] every screen renders its controls, labelled, at laptop and tablet widths', async ({
	people
}) => {
	const visitor = await people.add('Visitor', { signUp: false });
	await visitor.page.goto('/signin');
	await expect(visitor.page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
	await shoot(visitor.page, 'signin');
	await visitor.page.goto('/signup');
	await expect(visitor.page.getByLabel('Name')).toBeVisible();
	await shoot(visitor.page, 'signup');
	// Signed out, the list sends you to sign in.
	await visitor.page.goto('/');
	await expect(visitor.page).toHaveURL(/\/signin$/);

	const alice = await people.add('Alice');
	await expect(alice.page.getByText('No workspaces yet')).toBeVisible();
	await shoot(alice.page, 'workspaces-empty');
	const id = await createWorkspace(alice, 'Iris classifier');
	await alice.page.goto('/');
	await expect(alice.page.getByRole('link', { name: 'Iris classifier' })).toBeVisible();
	await shoot(alice.page, 'workspaces');

	await alice.page.goto(`/w/${id}`);
	await expect(alice.page.getByLabel('learning_rate', { exact: true })).toHaveValue('0.01');
	const bob = await people.add('Bob');
	const link = await inviteLink(alice, bob.email, 'editor');
	const visitorJoin = await people.add('Dana', { signUp: false });
	await visitorJoin.page.goto(link);
	await expect(visitorJoin.page.getByRole('link', { name: 'Sign up' })).toBeVisible();
	await shoot(visitorJoin.page, 'join-signed-out');

	await bob.page.goto(link);
	await bob.page.waitForURL(/\/w\//);
	await expect(bob.page.getByTestId('user-count')).toHaveText('2 users online');
	await alice.page.getByLabel('Message').fill('Shall we try a lower learning rate?');
	await alice.page.getByRole('button', { name: 'Send' }).click();
	await expect(bob.page.getByTestId('chat').getByText('lower learning rate')).toBeVisible();
	await bob.page.getByLabel('Message').fill('On it.');
	await bob.page.getByRole('button', { name: 'Send' }).click();
	await expect(alice.page.getByTestId('chat').getByText('On it.')).toBeVisible();
	await bob.page.getByLabel('learning_rate', { exact: true }).focus();
	await expect(alice.page.getByTestId('editing-badge')).toHaveText('Bob is editing');
	await bob.page.getByLabel('learning_rate', { exact: true }).fill('-0.5');
	await shoot(alice.page, 'dashboard');
	await shoot(bob.page, 'dashboard-bad-value');

	await alice.page.getByRole('button', { name: 'Invite' }).click();
	await alice.page.getByLabel('E-mail').fill('carol@example.test');
	await alice.page.getByRole('button', { name: 'Create invite link' }).click();
	await expect(alice.page.getByTestId('invite-link')).toHaveValue(/join\?token=/);
	await shoot(alice.page, 'invite-dialog');
	await alice.page.getByRole('button', { name: 'Close' }).click();

	await alice.page.getByRole('button', { name: 'Members' }).click();
	await expect(alice.page.getByLabel('Role of Bob')).toHaveValue('editor');
	await shoot(alice.page, 'members-dialog');
	await alice.page.getByRole('button', { name: 'Close' }).click();

	await openCode(alice.page);
	await openCode(bob.page);
	await bob.page.locator('.monaco-editor .view-lines').click();
	await bob.page.keyboard.type('# hello from bob');
	await expect(alice.page.locator('.yRemoteSelectionHead')).toBeVisible();
	await shoot(alice.page, 'code');

	await alice.page.getByRole('button', { name: 'Data', exact: true }).click();
	await shoot(alice.page, 'data');

	await bob.context.setOffline(true);
	await bob.page.getByRole('button', { name: 'Dashboard', exact: true }).click();
	await bob.page.getByLabel('epochs', { exact: true }).fill('5');
	await expect(bob.page.getByTestId('sync-status')).toContainText('not yet on the server');
	await shoot(bob.page, 'offline');
	await bob.context.setOffline(false);
});
