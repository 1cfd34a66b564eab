import { mkdirSync } from 'node:fs';
import { test, expect, twoPeople, openCode, editorText, type Person } from './fixtures.ts';

const EVIDENCE = 'test-results/screens';

async function setField(p: Person, key: string, value: string): Promise<void> {
	const field = p.page.getByLabel(key, { exact: true });
	await field.fill(value);
	await field.blur();
}

test('[APPCONFLICT1] two people set learning_rate offline; the one whose value was replaced is told who won and puts theirs back in one click', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	for (const p of [alice, bob]) {
		await p.context.setOffline(true);
		await expect(p.page.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
	}
	await setField(alice, 'learning_rate', '0.2');
	await setField(bob, 'learning_rate', '0.3');
	await alice.context.setOffline(false);
	await expect(alice.page.getByTestId('sync-status')).toHaveAttribute('data-state', 'saved', {
		timeout: 20_000
	});
	await bob.context.setOffline(false);
	await expect(bob.page.getByTestId('sync-status')).toHaveAttribute('data-state', 'saved', {
		timeout: 20_000
	});

	// Yjs keeps one of the two values everywhere; which one depends on the client ids.
	const aliceField = alice.page.getByLabel('learning_rate', { exact: true });
	const bobField = bob.page.getByLabel('learning_rate', { exact: true });
	await expect(async () => {
		const a = await aliceField.inputValue();
		expect(['0.2', '0.3']).toContain(a);
		expect(await bobField.inputValue()).toBe(a);
	}).toPass({ timeout: 20_000 });
	const kept = await aliceField.inputValue();
	const [loser, winner, mine] = kept === '0.3' ? [alice, bob, '0.2'] : [bob, alice, '0.3'];
	console.log(`kept ${kept}: ${loser.name} is told`);

	const alert = loser.page.getByTestId('conflict-alert');
	await expect(alert).toHaveCount(1, { timeout: 15_000 });
	await expect(alert).toContainText(
		`${winner.name} set learning_rate to ${kept} at the same time as your ${mine}; theirs is kept.`
	);
	await expect(winner.page.getByTestId('conflict-alert')).toHaveCount(0);

	mkdirSync(EVIDENCE, { recursive: true });
	await loser.page.setViewportSize({ width: 1440, height: 900 });
	await loser.page.screenshot({ path: `${EVIDENCE}/conflict-1440.png` });
	await loser.page.setViewportSize({ width: 820, height: 1180 });
	await loser.page.screenshot({ path: `${EVIDENCE}/conflict-820.png` });

	// One click puts mine back; it is a change made after seeing theirs: no alert for them.
	await alert.getByTestId('conflict-put-back').click();
	await expect(alert).toHaveCount(0);
	await expect(winner.page.getByLabel('learning_rate', { exact: true })).toHaveValue(mine, {
		timeout: 15_000
	});
	await expect(loser.page.getByLabel('learning_rate', { exact: true })).toHaveValue(mine);
	await expect(winner.page.getByTestId('conflict-alert')).toHaveCount(0);
});

test('[APPCONFLICT1] a change made after seeing the other’s value is not an alert', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	await setField(alice, 'epochs', '60');
	await expect(bob.page.getByLabel('epochs', { exact: true })).toHaveValue('60', {
		timeout: 15_000
	});
	await setField(bob, 'epochs', '70');
	await expect(alice.page.getByLabel('epochs', { exact: true })).toHaveValue('70', {
		timeout: 15_000
	});
	await expect(alice.page.getByTestId('sync-status')).toHaveAttribute('data-state', 'saved');
	await expect(alice.page.getByTestId('conflict-alert')).toHaveCount(0);
	await expect(bob.page.getByTestId('conflict-alert')).toHaveCount(0);
});

test('[APPCONFLICT2] Alice and Bob edit the same line within seconds: both see a quiet marker naming the other', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	for (const p of [alice, bob]) await openCode(p.page);
	await alice.page.locator('.monaco-editor .view-lines').click();
	await alice.page.keyboard.press('ControlOrMeta+Home');
	await alice.page.keyboard.press('End');
	await alice.page.keyboard.type('  # alice');
	await expect.poll(() => editorText(bob.page), { timeout: 15_000 }).toContain('# alice');
	await bob.page.locator('.monaco-editor .view-lines').click();
	await bob.page.keyboard.press('ControlOrMeta+Home');
	await bob.page.keyboard.press('End');
	await bob.page.keyboard.type(' bob');

	await expect(alice.page.locator('.ens-overlap-note').first()).toContainText(
		'Bob edited these lines too',
		{ timeout: 15_000 }
	);
	await expect(bob.page.locator('.ens-overlap-note').first()).toContainText(
		'Alice edited these lines too'
	);
	await expect(alice.page.locator('.ens-overlap-line')).not.toHaveCount(0);
	await alice.page.setViewportSize({ width: 1440, height: 900 });
	await alice.page.screenshot({ path: `${EVIDENCE}/overlap-1440.png` });
});
