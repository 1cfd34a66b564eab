import { test, expect, twoPeople, openCode } from './fixtures.ts';

test('[PRES3] following someone follows their view and file; an own action stops it', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	await alice.page.getByRole('button', { name: /^Follow Bob/ }).click();
	await expect(alice.page.getByText('Following Bob.')).toBeVisible();

	await openCode(bob.page);
	await expect(alice.page.getByRole('button', { name: 'Code', exact: true })).toHaveAttribute(
		'aria-current',
		'page'
	);
	await bob.page.getByRole('button', { name: '+ New' }).click();
	await bob.page.getByLabel('New file name').fill('model.py');
	await bob.page.getByRole('button', { name: 'Add', exact: true }).click();
	await bob.page.locator('.monaco-editor .view-lines').click();
	await bob.page.keyboard.type('import math');
	await expect(alice.page.locator('.tab .file')).toHaveText('model.py');

	// Alice picks a view herself: following stops, Bob's moves no longer move her.
	await alice.page.getByRole('button', { name: 'Dashboard', exact: true }).click();
	await expect(alice.page.getByText('Following Bob.')).toHaveCount(0);
	await bob.page.getByRole('button', { name: 'Data', exact: true }).click();
	await expect(alice.page.locator('[data-user="Bob"]')).toHaveAttribute('title', /data_table$/);
	await expect(alice.page.getByRole('button', { name: 'Dashboard', exact: true })).toHaveAttribute(
		'aria-current',
		'page'
	);
});

test('[OFFLINE4] signing out removes every local copy of the workspace', async ({ people }) => {
	const { alice } = await twoPeople(people);
	const page = alice.page;
	const local = () =>
		page.evaluate(async () => ({
			dbs: (await indexedDB.databases())
				.map((d) => d.name ?? '')
				.filter((n) => n.startsWith('ensemble:')),
			keys: Object.keys(localStorage).filter((k) => k.startsWith('ensemble:'))
		}));
	expect((await local()).dbs.length).toBeGreaterThanOrEqual(3);
	await page.getByRole('button', { name: 'Sign out' }).click();
	await page.waitForURL(/\/signin$/);
	await expect.poll(async () => (await local()).dbs).toEqual([]);
	expect((await local()).keys).toEqual([]);
});

test('[CHAT1] chat reaches the others with the author; a message written offline is sent on reconnect', async ({
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
