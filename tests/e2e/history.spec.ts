import { mkdirSync, readFileSync } from 'node:fs';
import { test, expect, twoPeople } from './fixtures.ts';

const EVIDENCE = 'test-results/screens';

test('[APPHIST1] the Activity tab shows the other person’s change live, in words; History shows then vs now and restores', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	await bob.page.getByTestId('tab-activity').click();
	const bobFeed = bob.page.getByTestId('activity');

	await alice.page.getByLabel('learning_rate', { exact: true }).fill('0.1');
	await alice.page.getByLabel('learning_rate', { exact: true }).blur();
	// Live: no reload on Bob's side.
	await expect(bobFeed.getByText('Alice set learning_rate 0.01 → 0.1')).toBeVisible({
		timeout: 15_000
	});
	await expect(bobFeed.getByText(/Bob joined as editor/)).toBeVisible();

	// Filter by person and kind.
	await bob.page.getByTestId('activity-kind').selectOption({ label: 'Members' });
	await expect(bobFeed.getByText('Alice set learning_rate 0.01 → 0.1')).toHaveCount(0);
	await bob.page.getByTestId('activity-kind').selectOption({ label: 'Everything' });
	await expect(bobFeed.getByText('Alice set learning_rate 0.01 → 0.1')).toBeVisible();

	mkdirSync(EVIDENCE, { recursive: true });
	await bob.page.setViewportSize({ width: 1440, height: 900 });
	await bob.page.screenshot({ path: `${EVIDENCE}/activity-1440.png` });

	// "See then" on an older entry: the moment before Alice's change.
	await bobFeed
		.getByTestId('activity-entry')
		.filter({ hasText: 'Bob joined' })
		.getByTestId('activity-moment')
		.click();
	const history = bob.page.getByTestId('history');
	await expect(history.getByTestId('history-params')).toContainText('learning_rate');
	await expect(history.getByTestId('history-params').locator('tr.changed')).toContainText(
		'(now 0.1)'
	);
	await bob.page.screenshot({ path: `${EVIDENCE}/history-1440.png` });
	await history.getByTestId('restore-params').click();
	await expect(history.getByRole('status')).toContainText('Restored learning_rate');
	await history.getByRole('button', { name: 'Close' }).click();
	// Alice sees the restore: the value and the entry.
	await expect(alice.page.getByLabel('learning_rate', { exact: true })).toHaveValue('0.01');
	await alice.page.getByTestId('tab-activity').click();
	await expect(
		alice.page.getByTestId('activity').getByText(/Bob restored the hyperparameters to/)
	).toBeVisible({ timeout: 15_000 });
	await alice.page.setViewportSize({ width: 820, height: 1180 });
	await alice.page.screenshot({ path: `${EVIDENCE}/activity-820.png`, fullPage: true });
});

test('[APPHIST2] a viewer browses history but is not offered restore', async ({ people }) => {
	const { alice, bob } = await twoPeople(people, 'viewer');
	await alice.page.getByLabel('epochs', { exact: true }).fill('77');
	await alice.page.getByLabel('epochs', { exact: true }).blur();
	await bob.page.getByTestId('tab-activity').click();
	await expect(bob.page.getByTestId('activity').getByText('Alice set epochs 50 → 77')).toBeVisible({
		timeout: 15_000
	});
	await bob.page.getByTestId('open-history').click();
	const history = bob.page.getByTestId('history');
	await expect(history.getByTestId('history-viewer')).toContainText('As a viewer you can browse');
	await expect(history.getByTestId('restore-params')).toHaveCount(0);
	await expect(history.getByTestId('history-params')).toContainText('77');
});

test('[APPHIST3] Download transcript saves the session’s minutes: the chat line, the run and the activity entry', async ({
	people
}) => {
	const { alice, bob, id } = await twoPeople(people);
	await alice.page.getByLabel('learning_rate', { exact: true }).fill('0.05');
	await alice.page.getByLabel('learning_rate', { exact: true }).blur();
	await bob.page.getByPlaceholder('Write a message…').fill('0.05 looks steadier');
	await bob.page.getByRole('button', { name: 'Send' }).click();
	await expect(alice.page.getByText('0.05 looks steadier')).toBeVisible({ timeout: 15_000 });
	// A run queued for an agent (no agent needed for it to be in the minutes).
	const run = await alice.page.request.post(`/api/workspaces/${id}/runs`, {
		data: { runner: 'agent' }
	});
	expect(run.status(), await run.text()).toBeLessThan(300);
	const runName = ((await run.json()) as { run: { name: string } }).run.name;

	await bob.page.getByTestId('tab-activity').click();
	await expect(
		bob.page.getByTestId('activity').getByText('Alice set learning_rate 0.01 → 0.05')
	).toBeVisible({ timeout: 15_000 });
	const [download] = await Promise.all([
		bob.page.waitForEvent('download'),
		bob.page.getByTestId('transcript').click()
	]);
	expect(download.suggestedFilename()).toMatch(/transcript\.md$/);
	const text = readFileSync(await download.path(), 'utf8');
	expect(text).toMatch(/^# .*: session transcript/);
	expect(text).toContain('Bob: 0.05 looks steadier');
	expect(text).toContain(`Alice started run **${runName}**`);
	expect(text).toContain('learning_rate 0.05');
	expect(text).toContain('_Alice set learning_rate 0.01 → 0.05_');
});
