// Workspace settings (issue 16): the owner renames the workspace and a member
// sees the new name; only owners see Settings; delete asks for the name first.
import { expect, test, twoPeople } from './fixtures.ts';

test('[APPWS1] the owner renames the workspace; the member sees the new name; an editor has no Settings', async ({
	people
}) => {
	const { alice, bob, id } = await twoPeople(people);
	await expect(bob.page.getByRole('button', { name: 'Settings' })).toHaveCount(0);

	await alice.page.getByRole('button', { name: 'Settings' }).click();
	const settings = alice.page.getByTestId('workspace-settings');
	await settings.getByLabel('Name').fill('   ');
	await settings.getByRole('button', { name: 'Rename' }).click();
	await expect(settings.getByRole('alert')).toHaveText('A workspace needs a name.');
	await settings.getByLabel('Name').fill('Penguin sweeps');
	await settings.getByRole('button', { name: 'Rename' }).click();
	await expect(settings.getByRole('status')).toHaveText('Renamed to “Penguin sweeps”.');
	await alice.page.getByRole('button', { name: 'Close' }).click();
	await expect(alice.page.getByRole('heading', { level: 1 })).toHaveText('Penguin sweeps');

	// Bob sees it in his list of workspaces and in the workspace's header.
	await bob.page.goto('/');
	await expect(bob.page.getByRole('link', { name: /Penguin sweeps/ })).toBeVisible();
	await bob.page.goto(`/w/${id}`);
	await expect(bob.page.getByRole('heading', { level: 1 })).toHaveText('Penguin sweeps');
});

test('[APPWS2] delete asks for the workspace name; then the workspace is gone for everyone', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	const name = (await alice.page.getByRole('heading', { level: 1 }).innerText()).trim();
	await alice.page.getByRole('button', { name: 'Settings' }).click();
	const settings = alice.page.getByTestId('workspace-settings');
	const remove = settings.getByRole('button', { name: 'Delete workspace' });
	await expect(remove).toBeDisabled();
	await settings.getByLabel(/to confirm/).fill(`${name} (not quite)`);
	await expect(remove).toBeDisabled();
	await settings.getByLabel(/to confirm/).fill(name);
	await remove.click();

	await expect(alice.page.getByRole('heading', { name: 'Your workspaces' })).toBeVisible();
	await expect(alice.page.getByRole('link', { name })).toHaveCount(0);
	// Bob's open workspace is closed with the reason, and it is gone from his list.
	await expect(bob.page.getByRole('link', { name: 'Back to your workspaces' })).toBeVisible();
	await bob.page.goto('/');
	await expect(bob.page.getByRole('heading', { name: 'Your workspaces' })).toBeVisible();
	await expect(bob.page.getByRole('link', { name })).toHaveCount(0);
});
