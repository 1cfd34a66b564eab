// The run queue in the app (issue 12): the team's train.py is what runs, its own
// metrics and log reach everyone, and the queue says what runs where.
import { expect, openCode, test, twoPeople } from './fixtures.ts';

test('[APPRUN1] [APPRUN3] [APPRUN4] one person edits train.py to report a new metric; the other starts it; both see the curve, the log and the exact code', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);

	// Alice makes the script print a log line and report a metric nobody has named before.
	await openCode(alice.page);
	await alice.page.locator('.monaco-editor .view-lines').click();
	await alice.page.keyboard.press('ControlOrMeta+End');
	await alice.page.keyboard.type('print("penguins are waddling")\n');
	await alice.page.keyboard.type(
		'for e in range(1, 4): print(json.dumps({"epoch": e, "penguin_score": e / 4}), flush=True)\n'
	);
	await expect(alice.page.getByTestId('sync-status')).toHaveAttribute('data-state', 'saved');
	await alice.page.getByRole('button', { name: 'Dashboard', exact: true }).click();

	// Bob starts it on the server (the default where the sandbox works).
	const picker = bob.page.getByTestId('runner-select');
	await expect(picker).toHaveValue('server');
	await expect(picker.locator('option[value="server"]')).toBeEnabled();
	await bob.page.getByTestId('start-training').click();

	for (const page of [alice.page, bob.page]) {
		// The new metric is on the chart, with its own toggle.
		await expect(page.getByRole('checkbox', { name: 'penguin_score' })).toBeVisible({
			timeout: 45_000
		});
		await expect(page.getByTestId('metrics-chart')).toHaveAttribute(
			'data-series',
			/· penguin_score/
		);
		// The log pane streams the script's other output and says its size.
		const log = page.getByTestId('run-log').first();
		await expect(log.getByRole('log')).toContainText('penguins are waddling');
		await expect(log.getByTestId('log-size')).toContainText(/1 line, \d+ B/);
		await expect(page.getByTestId('training-status')).toHaveText('completed', {
			timeout: 45_000
		});
	}

	// The run's detail keeps the exact code that ran.
	await bob.page.getByRole('button', { name: 'Details' }).first().click();
	const detail = bob.page.getByTestId('run-detail');
	await expect(detail).toBeInViewport();
	await expect(detail.locator('pre.code')).toContainText('"penguin_score": e / 4');
	await expect(detail).toContainText('started by Bob');
});

test('[APPRUN1] [APPRUN2] a run for an agent waits in everyone’s queue; the viewer sees it without buttons; stop and re-queue', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people, 'viewer');

	await alice.page.getByTestId('runner-select').selectOption('agent');
	await alice.page.getByTestId('agent-name').fill('gpu-1');
	await alice.page.getByTestId('start-training').click();

	for (const page of [alice.page, bob.page]) {
		const entry = page.getByTestId('queue-entry');
		await expect(entry).toHaveCount(1);
		await expect(entry).toContainText('waits for agent gpu-1');
		await expect(entry).toContainText('Alice');
	}
	// The viewer watches: no Stop, no Start.
	await expect(
		bob.page.getByTestId('run-queue').getByRole('button', { name: /^Stop/ })
	).toHaveCount(0);
	await expect(bob.page.getByTestId('start-training')).toBeDisabled();

	await alice.page.getByTestId('run-queue').getByRole('button', { name: /^Stop/ }).click();
	for (const page of [alice.page, bob.page]) {
		await expect(page.getByTestId('queue-entry')).toHaveCount(0);
		await expect(page.getByTestId('runs-table')).toContainText('stopped');
	}
	await expect(bob.page.getByRole('button', { name: /^Re-queue/ })).toHaveCount(0);

	await alice.page
		.getByRole('button', { name: /^Re-queue/ })
		.first()
		.click();
	for (const page of [alice.page, bob.page]) {
		await expect(page.getByTestId('queue-entry')).toHaveCount(1);
		await expect(page.getByTestId('queue-entry')).toContainText('waits for agent gpu-1');
	}
});
