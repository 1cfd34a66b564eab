import { test, expect, createWorkspace, inviteLink, signUp, expectLive } from './fixtures.ts';

test('[APP1] two people sign up; one creates a workspace and invites the other by link', async ({
	people
}) => {
	const alice = await people.add('Alice');
	await createWorkspace(alice, 'Iris together');
	await expect(alice.page.getByRole('heading', { name: 'Iris together' })).toBeVisible();
	const link = await inviteLink(alice, 'bob@example.test', 'editor');
	expect(link).toMatch(/\/workspace\/[^/]+\/join\?token=/);

	// Bob opens the link before having an account: sign up first, then join.
	const bob = await people.add('Bob', { signUp: false });
	await bob.page.goto(link);
	await bob.page.getByRole('link', { name: 'Sign up' }).click();
	await bob.page.getByLabel('Name').fill(bob.name);
	await bob.page.getByLabel('E-mail').fill(bob.email);
	await bob.page.getByLabel('Password').fill(bob.password);
	await bob.page.getByRole('button', { name: 'Sign up' }).click();
	await bob.page.waitForURL(/\/w\/[^/]+$/);
	await expect(bob.page.getByRole('heading', { name: 'Iris together' })).toBeVisible();
	await expectLive(bob.page);
	await expect(bob.page.locator('.role')).toHaveText('editor');

	// Both see each other in the active-users bar.
	await expect(alice.page.getByTestId('user-count')).toHaveText('2 users online');
	await expect(bob.page.getByTestId('user-count')).toHaveText('2 users online');

	// A used link does not let a third person in.
	const carol = await people.add('Carol', { signUp: false });
	await signUp(carol);
	await carol.page.goto(link);
	await expect(carol.page.getByRole('alert')).toBeVisible();
});
