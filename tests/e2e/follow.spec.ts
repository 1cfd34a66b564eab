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

test('[APPDBG5] following someone on the Dashboard shows the runs they compare and their chart zoom', async ({
	people
}) => {
	// Bob is a viewer: his picks are his own, so following is what shows him Alice's.
	const { alice, bob, id } = await twoPeople(people, 'viewer');
	const api = alice.page.request;
	const keyReply = await api.post(`/api/workspaces/${id}/api-keys`, { data: { name: 'script' } });
	const { key } = (await keyReply.json()) as { key: string };
	const headers = { Authorization: `Bearer ${key}` };
	for (const name of ['old-run', 'mid-run', 'new-run', 'newest-run']) {
		const created = await api.post(`/api/workspaces/${id}/external-runs`, {
			headers,
			data: { name, params: { learning_rate: 0.1 }, code: { 'train.py': 'pass\n' } }
		});
		expect(created.status()).toBe(201);
		const run = ((await created.json()) as { run: { id: string } }).run.id;
		const points = Array.from({ length: 20 }, (_, e) => ({
			step: e + 1,
			epoch: e + 1,
			values: { loss: 1 / (e + 1) }
		}));
		const posted = await api.post(`/api/workspaces/${id}/runs/${run}/metrics`, {
			headers,
			data: { points }
		});
		expect(posted.status()).toBe(202);
	}
	const chart = (page: typeof alice.page) => page.getByTestId('metrics-chart');
	// Nobody picked: both see the three newest.
	for (const page of [alice.page, bob.page])
		await expect(chart(page)).not.toHaveAttribute('data-series', /old-run/);

	await bob.page.getByRole('button', { name: /^Follow Alice/ }).click();
	await expect(bob.page.getByText('Following Alice.')).toBeVisible();

	// Alice compares the oldest run alone and zooms into epochs of the middle.
	await alice.page.getByRole('checkbox', { name: 'Compare old-run' }).check();
	for (const name of ['mid-run', 'new-run', 'newest-run'])
		await alice.page.getByRole('checkbox', { name: `Compare ${name}` }).uncheck();
	await expect(chart(alice.page)).toHaveAttribute('data-series', /^old-run · loss$/);
	await expect(chart(bob.page)).toHaveAttribute('data-series', /^old-run · loss$/);

	await chart(alice.page).scrollIntoViewIfNeeded();
	const box = await chart(alice.page).locator('.u-over').boundingBox();
	if (!box) throw new Error('the chart has no plotting area');
	const y = box.y + box.height / 2;
	await alice.page.mouse.move(box.x + box.width * 0.25, y);
	await alice.page.mouse.down();
	await alice.page.mouse.move(box.x + box.width * 0.5, y, { steps: 5 });
	await alice.page.mouse.up();
	await expect(chart(alice.page)).toHaveAttribute('data-zoom', /^\d+\.\d\d–\d+\.\d\d$/);
	const zoom = await chart(alice.page).getAttribute('data-zoom');
	// The quarter to the half of epochs 1-20 (give or take the axes' margins).
	const [from, to] = (zoom ?? '').split('–').map(Number);
	expect(from).toBeGreaterThan(3);
	expect(from).toBeLessThan(8);
	expect(to).toBeGreaterThan(8);
	expect(to).toBeLessThan(12.5);
	await expect(chart(bob.page)).toHaveAttribute('data-zoom', zoom ?? 'missing');
	await expect(bob.page.getByText('Following Alice.')).toBeVisible();

	// "Show all" on Alice's side: Bob's chart shows all of it too.
	await alice.page.getByRole('button', { name: 'Show all epochs' }).click();
	await expect(chart(alice.page)).toHaveAttribute('data-zoom', '');
	await expect(chart(bob.page)).toHaveAttribute('data-zoom', '');

	// Bob stops following: his own view again (the three newest, unzoomed).
	await bob.page.locator('.following').getByRole('button', { name: 'Stop' }).click();
	await expect(bob.page.getByText('Following Alice.')).toHaveCount(0);
	await expect(chart(bob.page)).not.toHaveAttribute('data-series', /old-run/);
});
