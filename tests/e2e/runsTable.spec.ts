// The runs table with two people (issue 16): runs reported by a script through the
// API and a built-in run in one table; filter and sort; picks made by one are
// seen by the other; the parallel-coordinates chart is the same for both.
import type { Page } from '@playwright/test';
import { expect, test, twoPeople } from './fixtures.ts';

interface Config {
	readonly learning_rate: number;
	readonly optimizer: string;
	readonly vacc: readonly number[];
}
const CONFIGS: readonly Config[] = [
	{ learning_rate: 0.1, optimizer: 'adam', vacc: [0.7, 0.95, 0.93] },
	{ learning_rate: 0.01, optimizer: 'sgd', vacc: [0.6, 0.8, 0.85] },
	{ learning_rate: 0.001, optimizer: 'adam', vacc: [0.5, 0.6, 0.7] },
	{ learning_rate: 0.05, optimizer: 'sgd', vacc: [0.8, 0.92, 0.91] }
];

const rows = (page: Page) => page.getByTestId('runs-table').locator('tbody tr');
const row = (page: Page, name: string) => rows(page).filter({ hasText: name });

test('[RUNTABLE1] [RUNTABLE3] [RUNTABLE4] [RUNTABLE5] script and built-in runs in one table; filter and sort; picks and the parallel chart shared by two people', async ({
	people
}) => {
	test.setTimeout(180_000);
	const { alice, bob, id } = await twoPeople(people);
	const api = alice.page.request;

	// A script reports four runs through the API with a key.
	const keyReply = await api.post(`/api/workspaces/${id}/api-keys`, { data: { name: 'sweep' } });
	expect(keyReply.status()).toBe(201);
	const { key } = (await keyReply.json()) as { key: string };
	const headers = { Authorization: `Bearer ${key}` };
	for (const [i, c] of CONFIGS.entries()) {
		const created = await api.post(`/api/workspaces/${id}/external-runs`, {
			headers,
			data: {
				name: `script-${i}`,
				params: { learning_rate: c.learning_rate, optimizer: c.optimizer },
				code: { 'train.py': `print(${i})\n` }
			}
		});
		expect(created.status()).toBe(201);
		const run = ((await created.json()) as { run: { id: string } }).run.id;
		const posted = await api.post(`/api/workspaces/${id}/runs/${run}/metrics`, {
			headers,
			data: {
				points: c.vacc.map((v, e) => ({
					step: e + 1,
					epoch: e + 1,
					values: { loss: 1 - v, val_accuracy: v }
				}))
			}
		});
		expect(posted.status()).toBe(202);
		// The points are stored before the run is marked completed.
		for (const page of [alice.page, bob.page])
			await expect(row(page, `script-${i}`).locator('[data-col="final:val_accuracy"]')).toHaveText(
				c.vacc[2]?.toFixed(3) ?? ''
			);
		const ended = await api.post(`/api/workspaces/${id}/runs/${run}/status`, {
			headers,
			data: { status: 'completed' }
		});
		expect(ended.status()).toBeLessThan(300);
	}
	// And one built-in run, started through the API too.
	const builtin = await api.post(`/api/workspaces/${id}/runs`, { data: { runner: 'builtin' } });
	expect(builtin.status()).toBeLessThan(300);

	for (const page of [alice.page, bob.page]) {
		await expect(rows(page)).toHaveCount(5);
		await expect(rows(page).filter({ hasText: 'completed' })).toHaveCount(5, { timeout: 90_000 });
		// Final and best values are separate columns; the script's runs say so.
		const first = row(page, 'script-0');
		await expect(first.locator('[data-col="best:val_accuracy"]')).toHaveText('0.950');
		await expect(first.locator('[data-col="final:val_accuracy"]')).toHaveText('0.930');
		await expect(first).toContainText('(script)');
		await expect(first.locator('[data-col="param:optimizer"]')).toHaveText('adam');
	}

	// A filter: Alice's own view.
	const filter = alice.page.getByTestId('runs-filter');
	await filter.fill('val_accuracy > 0.88 and optimizer = sgd');
	await expect(rows(alice.page)).toHaveCount(1);
	await expect(rows(alice.page)).toContainText('script-3');
	await expect(alice.page.getByTestId('runs-count')).toHaveText('1 of 5 runs');
	await expect(rows(bob.page)).toHaveCount(5);
	// A bad filter says why under the box and leaves the table whole.
	await filter.fill('val_acc > 0.9');
	await expect(alice.page.getByTestId('runs-filter-message')).toContainText('No column “val_acc”');
	await expect(rows(alice.page)).toHaveCount(5);
	await filter.fill('');

	// A sort: by learning rate, largest first, then smallest first.
	const header = alice.page.getByRole('button', { name: 'learning_rate', exact: true });
	await header.click();
	await expect(rows(alice.page).first()).toContainText('script-0');
	await header.click();
	await expect(rows(alice.page).first()).toContainText('script-2');
	await expect(rows(alice.page).last()).toContainText('script-0');

	// Alice picks runs to compare: the built-in run off, script-0 on.
	const builtinRow = rows(alice.page).filter({ hasNotText: 'script-' });
	await builtinRow.getByRole('checkbox').uncheck();
	await row(alice.page, 'script-0').getByRole('checkbox', { name: 'Compare script-0' }).check();
	const picked = ['script-0', 'script-2', 'script-3'];
	for (const page of [alice.page, bob.page]) {
		for (const name of picked)
			await expect(page.getByRole('checkbox', { name: `Compare ${name}` })).toBeChecked();
		await expect(page.getByRole('checkbox', { name: 'Compare script-1' })).not.toBeChecked();
		await expect(page.getByTestId('compare')).toContainText('Compare 3 runs');
		await expect(page.getByTestId('parallel-chart').locator('path')).toHaveCount(3);
		await expect(page.getByTestId('parallel-chart')).toHaveAttribute(
			'data-axes',
			'learning_rate,optimizer,val_accuracy'
		);
		await expect(page.getByTestId('best-run')).toContainText('script-0');
		await expect(page.getByTestId('scatter-chart')).toHaveAttribute('data-points', '3');
	}
	const lines = await alice.page.getByTestId('parallel-chart').getAttribute('data-lines');
	expect(lines?.split(';')).toHaveLength(3);
	await expect(bob.page.getByTestId('parallel-chart')).toHaveAttribute('data-lines', lines ?? '');

	// Bob compares by loss instead: Alice's chart follows.
	await bob.page.getByTestId('compare-metric').selectOption('loss');
	await expect(alice.page.getByTestId('parallel-chart')).toHaveAttribute(
		'data-axes',
		'learning_rate,optimizer,loss'
	);
	await expect(alice.page.getByTestId('best-run')).toContainText('Best loss: script-0');
});

test('[RUNTABLE1] [RUNTABLE8] sixty runs: a screenful is drawn, scrolling reaches the oldest, headers in words, values as written', async ({
	people
}) => {
	const { alice, id } = await twoPeople(people);
	const api = alice.page.request;
	const keyReply = await api.post(`/api/workspaces/${id}/api-keys`, { data: { name: 'bulk' } });
	const { key } = (await keyReply.json()) as { key: string };
	const headers = { Authorization: `Bearer ${key}` };
	const COUNT = 60;
	for (let i = 0; i < COUNT; i++) {
		const created = await api.post(`/api/workspaces/${id}/external-runs`, {
			headers,
			data: {
				name: `bulk-${String(i).padStart(2, '0')}`,
				params: { learning_rate: (i + 1) / 30 },
				code: { 'train.py': 'pass\n' }
			}
		});
		expect(created.status()).toBe(201);
	}
	const page = alice.page;
	await expect(page.getByTestId('runs-count')).toHaveText(`${COUNT} runs`);
	// Newest first; only the rows in view (and a few more) are drawn.
	await expect(rows(page).first()).toContainText('bulk-59');
	const drawn = await page.getByTestId('runs-table').locator('tbody tr[data-run]').count();
	expect(drawn).toBeGreaterThan(10);
	expect(drawn).toBeLessThan(COUNT / 2);
	await expect(page.getByTestId('runs-table')).toHaveAttribute('aria-rowcount', String(COUNT + 1));

	// Headers in words; the filter's name on hover.
	const startedBy = page.getByRole('button', { name: 'Started by', exact: true });
	await expect(startedBy).toBeVisible();
	await expect(startedBy).toHaveAttribute('title', 'filter as started_by');
	// The oldest run is not drawn until it is scrolled to.
	await expect(row(page, 'bulk-00')).toHaveCount(0);

	// Scrolling to the end draws the oldest run.
	await page
		.getByTestId('runs-table')
		.evaluate((table) => table.parentElement?.scrollTo({ top: table.scrollHeight }));
	const oldest = row(page, 'bulk-00');
	await expect(oldest).toBeVisible();
	await expect(oldest).toHaveAttribute('aria-rowindex', String(COUNT + 1));
	// A hyperparameter as written: 1/30 is 0.03333, not 0.0333333333.
	await expect(oldest.locator('[data-col="param:learning_rate"]')).toHaveText('0.03333');
	await oldest.scrollIntoViewIfNeeded();
	await page.screenshot({ path: 'test-results/screens/runs-table-scrolled.png' });
});
