// A tablet (820 px wide) and a desktop (1440 px): the header stays one row, and
// at the tablet width the chat can be opened beside the editor (src/SPEC.md APPTAB1).
import { test, expect, twoPeople, openCode, expectLive } from './fixtures.ts';

for (const width of [1440, 820]) {
	test(`[APPTAB1] at ${width} px the header is one row and the chat is beside the editor`, async ({
		people
	}) => {
		const { alice, bob } = await twoPeople(people);
		const page = alice.page;
		await page.setViewportSize({ width, height: width === 820 ? 1180 : 900 });
		await openCode(page);
		await expectLive(page);
		const header = page.locator('header.top');
		// One row: every control of the header sits on the row of the view tabs.
		const tabs = (await page.getByRole('button', { name: 'Code' }).first().boundingBox())!;
		for (const name of ['Invite', 'Members', 'Sign out']) {
			const box = (await header.getByRole('button', { name }).boundingBox())!;
			expect(Math.abs(box.y + box.height / 2 - (tabs.y + tabs.height / 2)), name).toBeLessThan(12);
		}
		// Nothing in the header covers the view tabs.
		const data = (await page.getByRole('button', { name: 'Data' }).first().boundingBox())!;
		const users = (await page.getByTestId('active-users').boundingBox())!;
		expect(users.x).toBeGreaterThanOrEqual(data.x + data.width);
		if (width === 820) await header.getByRole('button', { name: 'Chat' }).click();
		const chat = page.getByTestId('chat');
		// Beside: to the right of the editor, overlapping it vertically, once Monaco
		// has laid itself out again for the narrower column (it does so on its own resize).
		await expect
			.poll(async () => {
				const editor = (await page.locator('.monaco-editor').first().boundingBox())!;
				const side = (await chat.boundingBox())!;
				return side.x >= editor.x + editor.width - 1 && side.y < editor.y + editor.height;
			}, 'the chat beside the editor')
			.toBe(true);
		await page.getByLabel('Message').fill('seen beside the code');
		await page.getByRole('button', { name: 'Send' }).click();
		await expect(bob.page.getByTestId('chat').getByText('seen beside the code')).toBeVisible();
		await page.screenshot({ path: `/tmp/presence-tablet-${width}.png` });
	});
}
