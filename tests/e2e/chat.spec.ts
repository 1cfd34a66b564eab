import { test, expect, twoPeople } from './fixtures.ts';

test('[APPCHAT1] chat reaches the others with the author; a message written offline is sent on reconnect', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	await alice.page.getByLabel('Message').fill('hello from alice');
	await alice.page.getByRole('button', { name: 'Send' }).click();
	const bobChat = bob.page.getByTestId('chat');
	await expect(bobChat.getByText('hello from alice')).toBeVisible();
	await expect(bobChat.locator('li', { hasText: 'hello from alice' })).toContainText('Alice');

	await bob.context.setOffline(true);
	await expect(bob.page.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
	await bob.page.getByLabel('Message').fill('written offline');
	await bob.page.getByRole('button', { name: 'Send' }).click();
	await expect(bob.page.getByTestId('chat-queued')).toContainText('queued');
	await bob.context.setOffline(false);
	await expect(alice.page.getByTestId('chat').getByText('written offline')).toBeVisible();
	await expect(bob.page.getByTestId('chat-queued')).toHaveCount(0);
	await expect(bob.page.getByTestId('chat').getByText('written offline')).toHaveCount(1);
});
