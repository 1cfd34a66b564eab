import { test, expect, twoPeople, openCode, editorText, expectLive } from './fixtures.ts';
import type { Page } from '@playwright/test';

function count(haystack: string, needle: string): number {
	return haystack.split(needle).length - 1;
}

// editorText reads the lines Monaco renders: a tall window keeps the whole starter file in
// view under the Debugger, the call bar and the notes that appear on reconnect.
test.use({ viewport: { width: 1366, height: 1500 } });

async function typeAtEnd(page: Page, text: string): Promise<void> {
	await page.locator('.monaco-editor .view-lines').click();
	await page.keyboard.press('ControlOrMeta+End');
	await page.keyboard.type(text);
}

async function typeAtStart(page: Page, text: string): Promise<void> {
	await page.locator('.monaco-editor .view-lines').click();
	await page.keyboard.press('ControlOrMeta+Home');
	await page.keyboard.type(text);
}

test('[OFFLINE1] edits made offline on both sides merge on reconnect: nothing lost or doubled', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	await openCode(alice.page);
	await openCode(bob.page);
	await expect.poll(() => editorText(bob.page)).toContain('def train');

	await bob.context.setOffline(true);
	const bobStatus = bob.page.getByTestId('sync-status');
	await expect(bobStatus).toHaveAttribute('data-state', 'offline');
	// One indicator says it (the active-users bar no longer repeats Live/Offline, RUNTABLE7).
	await expect(bob.page.getByText(/\bOffline\b/)).toHaveCount(1);

	// Both edit the same file and the same parameters while apart.
	await typeAtEnd(bob.page, '\n# bob was offline');
	await typeAtStart(alice.page, '# alice stayed online\n');
	await expect(bobStatus).toContainText(/Offline · \d+ local changes? not yet on the server/);
	await expect.poll(() => editorText(alice.page)).not.toContain('bob was offline');

	await bob.page.getByRole('button', { name: 'Dashboard', exact: true }).click();
	await alice.page.getByRole('button', { name: 'Dashboard', exact: true }).click();
	await bob.page.getByLabel('epochs', { exact: true }).fill('7');
	await alice.page.getByLabel('batch_size', { exact: true }).fill('48');
	await bob.page.getByLabel('learning_rate', { exact: true }).fill('0.2');
	await alice.page.getByLabel('learning_rate', { exact: true }).fill('0.3');
	await alice.page.getByLabel('learning_rate', { exact: true }).blur();
	await expect(alice.page.getByLabel('epochs', { exact: true })).toHaveValue('50');

	await bob.context.setOffline(false);
	await expectLive(bob.page);
	await expectLive(alice.page);

	// Same values on both sides, each person's change kept.
	for (const page of [alice.page, bob.page]) {
		await expect(page.getByLabel('epochs', { exact: true })).toHaveValue('7');
		await expect(page.getByLabel('batch_size', { exact: true })).toHaveValue('48');
	}
	// Both changed learning_rate: one value wins, the same one on both sides.
	const lr = (p: Page) => p.getByLabel('learning_rate', { exact: true }).inputValue();
	await expect
		.poll(async () => [await lr(alice.page), await lr(bob.page)].join(' '))
		.toMatch(/^(0\.2 0\.2|0\.3 0\.3)$/);

	// Same text on both sides, each line exactly once.
	await openCode(alice.page);
	await openCode(bob.page);
	await expect.poll(() => editorText(alice.page)).toContain('# bob was offline');
	await expect.poll(() => editorText(bob.page)).toContain('# alice stayed online');
	const a = await editorText(alice.page);
	await expect.poll(() => editorText(bob.page)).toBe(a);
	expect(count(a, '# bob was offline')).toBe(1);
	expect(count(a, '# alice stayed online')).toBe(1);
	expect(count(a, 'def train')).toBe(1);
});

test('[OFFLINE2] a workspace opened once opens again offline after a reload, and edits sync later', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	const page = bob.page;
	// The service worker has cached the app shell.
	await page.evaluate(async () => {
		await navigator.serviceWorker.ready;
	});
	await openCode(page);
	await page.getByRole('button', { name: 'Dashboard', exact: true }).click();

	await bob.context.setOffline(true);
	await page.reload();
	await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
	await expect(page.getByLabel('learning_rate', { exact: true })).toHaveValue('0.01');
	await page.getByLabel('hidden_units', { exact: true }).fill('33');
	await expect(page.getByTestId('sync-status')).toContainText('not yet on the server');
	await openCode(page);
	await expect.poll(() => editorText(page)).toContain('def train');
	await typeAtEnd(page, '\n# written offline after a reload');

	// Reloading again offline keeps the unsaved count and the edits.
	await page.reload();
	await expect(page.getByTestId('sync-status')).toContainText('not yet on the server');
	await openCode(page);
	await expect.poll(() => editorText(page)).toContain('# written offline after a reload');

	await bob.context.setOffline(false);
	await expectLive(page);
	await expect(alice.page.getByLabel('hidden_units', { exact: true })).toHaveValue('33');
	await openCode(alice.page);
	await expect.poll(() => editorText(alice.page)).toContain('# written offline after a reload');
});

test('[OFFLINE3] edits refused after a reconnect (made a viewer meanwhile) are shown', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	await bob.context.setOffline(true);
	await expect(bob.page.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
	await bob.page.getByLabel('seed', { exact: true }).fill('7');

	await alice.page.getByRole('button', { name: 'Members' }).click();
	await alice.page.getByLabel('Role of Bob').selectOption('viewer');
	await alice.page.getByRole('button', { name: 'Close' }).click();

	await bob.context.setOffline(false);
	await expect(bob.page.getByTestId('refused')).toContainText('refused');
	await expect(bob.page.getByTestId('sync-status')).toHaveAttribute('data-state', 'refused');
	await expect(bob.page.getByTestId('sync-status')).toContainText('1 local change refused');
	// Presence comes back after the reconnect, without a false "left" toast.
	await expect(bob.page.getByTestId('user-count')).toHaveText('2 users online');
	await expect(bob.page.getByTestId('toast').filter({ hasText: 'left' })).toHaveCount(0);
	await bob.page.screenshot({ path: 'test-results/screens/refused-laptop.png' });
	await expect(bob.page.getByLabel('seed', { exact: true })).toBeDisabled();
	await expect(alice.page.getByLabel('seed', { exact: true })).toHaveValue('42');
});

test('[SYNC2] a removed member is told why and the app stops reconnecting', async ({ people }) => {
	const { alice, bob } = await twoPeople(people);
	await alice.page.getByRole('button', { name: 'Members' }).click();
	alice.page.once('dialog', (d) => void d.accept());
	await alice.page.getByRole('button', { name: 'Remove Bob' }).click();
	await expect(alice.page.getByLabel('Role of Bob')).toHaveCount(0);

	const status = bob.page.getByTestId('sync-status');
	await expect(status).toHaveAttribute('data-state', 'closed');
	await expect(status).toContainText('You no longer have access to this workspace.');
	await bob.page.screenshot({ path: 'test-results/screens/removed-laptop.png' });
	// Nothing more could be saved: the controls say so instead of taking edits.
	await expect(bob.page.getByLabel('learning_rate', { exact: true })).toBeDisabled();
	await expect(bob.page.getByRole('link', { name: 'Back to your workspaces' })).toBeVisible();
	await expect(alice.page.getByTestId('user-count')).toHaveText('1 user online');
});

test('[OFFLINE5] offline is calm: curves and previews seen stay after an offline reload, and what needs the server says so in a sentence', async ({
	people
}) => {
	const { alice, bob, id } = await twoPeople(people);
	const page = bob.page;
	await page.evaluate(async () => {
		await navigator.serviceWorker.ready;
	});

	// A script reports a run; Bob watches its curve and looks at the data set.
	const api = alice.page.request;
	const keyReply = await api.post(`/api/workspaces/${id}/api-keys`, { data: { name: 'script' } });
	expect(keyReply.status()).toBe(201);
	const { key } = (await keyReply.json()) as { key: string };
	const headers = { Authorization: `Bearer ${key}` };
	const created = await api.post(`/api/workspaces/${id}/external-runs`, {
		headers,
		data: { name: 'seen-run', params: { learning_rate: 0.1 }, code: { 'train.py': 'pass\n' } }
	});
	expect(created.status()).toBe(201);
	const run = ((await created.json()) as { run: { id: string } }).run.id;
	const posted = await api.post(`/api/workspaces/${id}/runs/${run}/metrics`, {
		headers,
		data: {
			points: [0.6, 0.8, 0.9].map((v, e) => ({
				step: e + 1,
				epoch: e + 1,
				values: { loss: 1 - v, val_accuracy: v }
			}))
		}
	});
	expect(posted.status()).toBe(202);
	const compare = page.getByRole('checkbox', { name: 'Compare seen-run' });
	await compare.check();
	const chart = page.getByTestId('metrics-chart');
	await expect(chart).toHaveAttribute('data-series', /seen-run · val_accuracy/);
	await page.getByRole('button', { name: 'Data', exact: true }).click();
	const preview = page.getByTestId('dataset-preview');
	await expect(preview.locator('tbody tr').first()).toBeVisible();
	const previewText = await preview.textContent();

	// Offline, after a reload: the same curve and the same preview, from local copies.
	await bob.context.setOffline(true);
	await page.reload();
	await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
	await expect(chart).toHaveAttribute('data-series', /seen-run · val_accuracy/);
	await expect(page.getByTestId('offline-note')).toHaveText(
		/You are offline: training can start \(or stop\) when you are back online\./
	);
	await expect(page.getByTestId('start-training')).toBeDisabled();
	await expect(page.getByRole('button', { name: 'Join call' })).toBeDisabled();
	await expect(page.getByTestId('call-offline')).toHaveText(
		'You are offline: join when you are back.'
	);

	await page.getByRole('button', { name: 'Data', exact: true }).click();
	await expect(preview).toHaveText(previewText ?? '');
	await expect(page.getByTestId('data-offline')).toContainText('You are offline');
	await expect(page.getByLabel('Upload a CSV')).toBeDisabled();
	// Nothing says how the network failed.
	await expect(page.getByText(/Failed to fetch|TypeError/)).toHaveCount(0);
	await page.screenshot({ path: 'test-results/screens/offline-data.png' });

	await bob.context.setOffline(false);
	await expectLive(page);
	await expect(page.getByTestId('data-offline')).toHaveCount(0);
	await expect(page.getByLabel('Upload a CSV')).toBeEnabled();
	await expect(page.getByRole('button', { name: 'Join call' })).toBeEnabled();
});
