import { mkdirSync } from 'node:fs';
import { test, expect, twoPeople } from './fixtures.ts';

const EVIDENCE = 'test-results/screens';

test('[APPAWAY1] back from offline, Alice reads what Bob changed meanwhile and which of her offline changes were replaced', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	await alice.context.setOffline(true);
	await expect(alice.page.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
	const aliceRate = alice.page.getByLabel('learning_rate', { exact: true });
	await aliceRate.fill('0.5');
	await aliceRate.blur();

	// Meanwhile Bob changes epochs and learning_rate (he never saw Alice's 0.5).
	for (const [key, value] of [
		['epochs', '80'],
		['learning_rate', '0.7']
	] as const) {
		await bob.page.getByLabel(key, { exact: true }).fill(value);
		await bob.page.getByLabel(key, { exact: true }).blur();
	}
	await bob.page.getByTestId('tab-activity').click();
	await expect(bob.page.getByTestId('activity').getByText('Bob set epochs 50 → 80')).toBeVisible({
		timeout: 15_000
	});
	await expect(bob.page.getByTestId('sync-status')).toHaveAttribute('data-state', 'saved');

	await alice.context.setOffline(false);
	const summary = alice.page.getByTestId('away-summary');
	await expect(summary).toBeVisible({ timeout: 20_000 });
	await expect(summary.getByTestId('away-changes')).toContainText('Bob set epochs 50 → 80');
	// Alice's own offline change is not listed as the others' work.
	await expect(summary.getByTestId('away-changes')).not.toContainText('Alice');

	// Which value won is Yjs' choice (client ids): Alice's replaced change is listed only if hers lost.
	await expect(async () => {
		const kept = await aliceRate.inputValue();
		expect(['0.5', '0.7']).toContain(kept);
		expect(await bob.page.getByLabel('learning_rate', { exact: true }).inputValue()).toBe(kept);
	}).toPass({ timeout: 15_000 });
	const kept = await aliceRate.inputValue();
	console.log(`kept learning_rate ${kept}`);
	if (kept === '0.7') {
		await expect(summary.getByTestId('away-replaced')).toContainText(
			"learning_rate: your 0.5 → Bob's 0.7"
		);
	} else {
		await expect(summary.getByTestId('away-replaced')).toHaveCount(0);
		// Bob's 0.7 lost instead: he is the one told (CONFLICT1).
		await expect(bob.page.getByTestId('conflict-alert')).toContainText(
			'Alice set learning_rate to 0.5 at the same time as your 0.7'
		);
	}

	mkdirSync(EVIDENCE, { recursive: true });
	await alice.page.setViewportSize({ width: 1440, height: 900 });
	await alice.page.screenshot({ path: `${EVIDENCE}/away-1440.png` });
	await summary.getByRole('button', { name: 'Dismiss' }).click();
	await expect(summary).toHaveCount(0);
});
