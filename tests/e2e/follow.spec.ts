import { test, expect, twoPeople, openCode } from './fixtures.ts';

test('[APPPRES3] following someone follows their view and file; an own action stops it', async ({
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
	await expect(alice.page.locator('[data-user="Bob"]')).toHaveAttribute('title', /Data$/);
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
