// Sweeps in the app with two people (issue 16): a sweep started by one finishes
// with the same progress and best run for both; Stop on someone else's run asks
// first and tells its starter who stopped it; a rename is seen by the other.
import type { Page } from '@playwright/test';
import { expect, test, twoPeople } from './fixtures.ts';

async function shot(page: Page, name: string): Promise<void> {
	for (const [label, width] of [
		['1440', 1440],
		['820', 820]
	] as const) {
		await page.setViewportSize({ width, height: 900 });
		await page.screenshot({ path: `test-results/screens/${name}-${label}.png` });
	}
	await page.setViewportSize({ width: 1366, height: 860 });
}

test('[APPSWEEP1] [APPSWEEP2] a sweep of 6 runs started by one person finishes; both see the same progress and best run', async ({
	people
}) => {
	test.setTimeout(240_000);
	const { alice, bob } = await twoPeople(people);

	await alice.page.getByRole('button', { name: 'New sweep…' }).click();
	const dialog = alice.page.getByTestId('sweep-dialog');
	const lr = dialog.locator('[data-testid="sweep-param"][data-name="learning_rate"]');
	await lr.getByLabel('learning_rate: list or range').selectOption('list');
	// A value the shared rules refuse is named in plain words; nothing can start.
	await lr.getByLabel('learning_rate values').fill('0, 0.1');
	await expect(dialog.getByTestId('sweep-problem')).toContainText(
		'learning_rate: 0 is refused (learning_rate must be a number greater than 0'
	);
	await expect(dialog.getByRole('button', { name: 'Start sweep' })).toBeDisabled();
	await lr.getByLabel('learning_rate values').fill('0.05, 0.1, 0.15');
	await dialog.getByLabel('Add a hyperparameter').selectOption('optimizer');
	const opt = dialog.locator('[data-testid="sweep-param"][data-name="optimizer"]');
	await opt.getByLabel('optimizer values').fill('adam, sgd');
	await dialog.getByLabel('Metric to optimize').selectOption('accuracy');
	await dialog.getByLabel('Run on').selectOption('server');
	await dialog.getByLabel('Name (optional)').fill('lr x optimizer');
	// 3 × 2: the number of runs is shown before starting.
	await expect(dialog.getByTestId('sweep-count')).toHaveText(/6 runs/);
	await shot(alice.page, 'sweep-dialog');
	await dialog.getByRole('button', { name: 'Start 6 runs' }).click();
	await expect(dialog).toBeHidden();

	const progress = (page: Page) => page.getByTestId('sweep-panel').getByTestId('sweep');
	for (const page of [alice.page, bob.page]) {
		await expect(progress(page)).toHaveCount(1);
		await expect(progress(page)).toContainText('lr x optimizer');
		await expect(progress(page).getByTestId('sweep-progress')).toContainText('of 6');
	}
	await shot(bob.page, 'sweep-panel-running');
	for (const page of [alice.page, bob.page]) {
		await expect(progress(page)).toHaveAttribute('data-state', 'completed', { timeout: 180_000 });
		await expect(progress(page).getByTestId('sweep-progress')).toHaveText(
			'6 done · 0 running · 0 queued of 6'
		);
	}
	const best = await alice.page.getByTestId('sweep-best').innerText();
	expect(best).toMatch(/^Best accuracy \d\.\d{3} \(highest\): .+/);
	await expect(bob.page.getByTestId('sweep-best')).toHaveText(best);
	// Every run of the sweep is in the list with a unique name.
	const names = await alice.page.getByTestId('run-name').allInnerTexts();
	expect(names.length).toBe(6);
	expect(new Set(names).size).toBe(6);
	await shot(alice.page, 'sweep-panel-done');
});

test('[APPRUNNAME1] [APPRUNNAME2] [APPRUNNAME3] Stop on another’s run asks first and its starter is told; a rename is seen by the other; a duplicate name is refused', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	// Two runs of Alice's wait for an agent that never comes: they stay queued.
	await alice.page.getByTestId('runner-select').selectOption('agent');
	await alice.page.getByTestId('start-training').click();
	await expect(alice.page.getByTestId('queue-entry')).toHaveCount(1);
	await alice.page.getByTestId('start-training').click();
	await expect(bob.page.getByTestId('queue-entry')).toHaveCount(2);
	const list = (page: Page) => page.getByTestId('runs-table');
	const [first, second] = await list(bob.page).getByTestId('run-name').allInnerTexts();

	// Bob renames one; Alice sees the new name.
	await list(bob.page)
		.getByRole('button', { name: `Rename ${first}` })
		.click();
	await list(bob.page).getByLabel(`New name for ${first}`).fill('penguins, adam, warm start');
	await list(bob.page).getByRole('button', { name: 'Save' }).click();
	await expect(list(alice.page)).toContainText('penguins, adam, warm start');
	// A name another run has is refused with the server's words.
	await list(alice.page)
		.getByRole('button', { name: `Rename ${second}` })
		.click();
	await list(alice.page).getByLabel(`New name for ${second}`).fill('Penguins, Adam, warm start');
	await list(alice.page).getByRole('button', { name: 'Save' }).click();
	await expect(list(alice.page).getByRole('alert')).toContainText(/already/i);
	await list(alice.page).getByRole('button', { name: 'Cancel' }).click();

	// Bob stops Alice's run: he is asked first; cancelling keeps it.
	const row = list(bob.page).locator('tr', { hasText: 'penguins, adam, warm start' });
	await row.getByRole('button', { name: 'Stop penguins, adam, warm start' }).click();
	const ask = row.getByRole('group', { name: 'Confirm stopping penguins, adam, warm start' });
	await expect(ask).toContainText("Stop Alice's run? They will see that you stopped it.");
	await ask.getByRole('button', { name: 'Cancel' }).click();
	await expect(bob.page.getByTestId('queue-entry')).toHaveCount(2);
	await row.getByRole('button', { name: 'Stop penguins, adam, warm start' }).click();
	await ask.getByRole('button', { name: 'Yes, stop' }).click();
	// Alice is told who stopped it.
	await expect(
		alice.page
			.getByTestId('toast')
			.filter({ hasText: 'Bob stopped your run “penguins, adam, warm start”.' })
	).toBeVisible();
	await expect(alice.page.getByTestId('queue-entry')).toHaveCount(1);
	// Alice stops her own run at once, without a question, and nobody is told.
	await list(alice.page)
		.getByRole('button', { name: `Stop ${second}` })
		.click();
	await expect(alice.page.getByTestId('queue-entry')).toHaveCount(0);
});
