// Debugging together (issue 15) in real Chromium against the real server and real
// Python processes: a breakpoint set in Alice's browser pauses a script started by
// the Python client and one started from the app on the server's sandbox; Bob sees
// the locals, evaluates and continues; the runs complete with their metrics. A
// viewer watches (no buttons) and, following Bob, sees the frame he looks at.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect, inviteLink, join, test, twoPeople } from './fixtures.ts';

const CLIENT = fileURLToPath(new URL('../../clients/python/ensemble_client.py', import.meta.url));
/** `report(epoch=…)` inside train() in the starter train.py (server/api/seed.ts). */
const LINE = 19;

/** Clicks the glyph margin left of `line`'s number in the open editor. */
async function clickMargin(page: Page, line: number): Promise<void> {
	await page.locator('.monaco-editor .view-lines').click();
	await page.keyboard.press('ControlOrMeta+End');
	const number = page
		.locator('.monaco-editor .line-numbers')
		.filter({ hasText: new RegExp(`^${line}$`) });
	await expect(number).toBeVisible();
	const box = (await number.boundingBox())!;
	await page.mouse.click(box.x - 8, box.y + box.height / 2);
}

/** Opens the Code view; Monaco's chunk loads slowly on a loaded machine, so it gets time. */
async function openCode(page: Page): Promise<void> {
	await page.getByRole('button', { name: 'Code', exact: true }).click();
	await expect(page.locator('.monaco-editor .view-lines')).toBeVisible({ timeout: 60_000 });
}

/** Saves the page at 1440×900 and 820 px wide to test-results/screens/ for a person to look at. */
async function shoot(page: Page, name: string): Promise<void> {
	for (const [label, size] of Object.entries({
		wide: { width: 1440, height: 900 },
		narrow: { width: 820, height: 1180 }
	})) {
		await page.setViewportSize(size);
		await page.screenshot({ path: `test-results/screens/${name}-${label}.png` });
	}
	await page.setViewportSize({ width: 1366, height: 860 });
}

/** The row of local variable `name` in the Debugger. */
function local(page: Page, name: string) {
	return page
		.getByTestId('debug-locals')
		.locator('tr')
		.filter({ has: page.locator('th', { hasText: new RegExp(`^${name}$`) }) });
}

function debuggerOf(page: Page) {
	return page.getByTestId('debug-panel');
}

/** `python3 ensemble_client.py run train.py` with a new API key of the workspace. */
async function runClient(
	page: Page,
	workspace: string
): Promise<{
	child: ChildProcess;
	exit: Promise<{ code: number | null; output: string }>;
}> {
	const key = await page.request.post(`/api/workspaces/${workspace}/api-keys`, {
		data: { name: 'debug e2e' }
	});
	expect(key.status()).toBe(201);
	const { key: secret } = (await key.json()) as { key: string };
	const child = spawn(
		'python3',
		[
			CLIENT,
			'--url',
			process.env.ENSEMBLE_URL!,
			'--workspace',
			workspace,
			'--key',
			secret,
			'run',
			'train.py'
		],
		{ stdio: ['ignore', 'pipe', 'pipe'] }
	);
	let output = '';
	child.stdout.on('data', (c: Buffer) => (output += c.toString()));
	child.stderr.on('data', (c: Buffer) => (output += c.toString()));
	const exit = new Promise<{ code: number | null; output: string }>((resolve) =>
		child.on('close', (code) => resolve({ code, output }))
	);
	return { child, exit };
}

test('[APPDBG1] [APPDBG2] [APPDBG3] [APPDBG4] a breakpoint set in Alice’s browser pauses a script run by the Python client; Bob sees the locals, evaluates and continues; the viewer watches and follows Bob’s frame', async ({
	people
}) => {
	test.setTimeout(180_000);
	const { alice, bob, id } = await twoPeople(people);
	const vera = await people.add('Vera');
	await join(vera, await inviteLink(alice, vera.email, 'viewer'));

	await openCode(alice.page);
	await clickMargin(alice.page, LINE);
	for (const page of [alice.page, bob.page, vera.page]) {
		if (page !== alice.page) await openCode(page);
		await expect(page.locator('.monaco-editor .bp-glyph')).toHaveCount(1);
		await expect(debuggerOf(page).getByTestId('debug-breakpoints')).toContainText(
			`train.py:${LINE}`
		);
		await expect(debuggerOf(page).getByTestId('debug-breakpoints')).toContainText(
			'Breakpoint set by Alice'
		);
	}
	// The viewer's margin does nothing and the list offers no edits.
	await clickMargin(vera.page, LINE - 1);
	await expect(vera.page.locator('.monaco-editor .bp-glyph')).toHaveCount(1);
	await expect(debuggerOf(vera.page).getByRole('button', { name: 'Edit' })).toHaveCount(0);

	const { child, exit } = await runClient(alice.page, id);
	try {
		for (const page of [alice.page, bob.page, vera.page]) {
			await expect(page.getByTestId('debug-status')).toHaveText(
				`Paused at train.py:${LINE} (Alice's breakpoint)`,
				{ timeout: 45_000 }
			);
			await expect(page.locator('.monaco-editor .paused-line')).toHaveCount(1);
			await expect(local(page, 'epoch')).toContainText('1');
			await expect(local(page, 'loss')).toContainText('float');
		}
		// The viewer watches: no Continue, a note saying why.
		await expect(debuggerOf(vera.page).getByRole('button', { name: 'Continue' })).toHaveCount(0);
		await expect(debuggerOf(vera.page)).toContainText('Viewers watch');

		// Vera follows Bob: the frame he looks at is the one she sees.
		await vera.page.getByRole('button', { name: /^Follow Bob/ }).click();
		await debuggerOf(bob.page)
			.getByRole('button', { name: /<module>/ })
			.click();
		await expect(
			debuggerOf(vera.page).getByRole('heading', { name: 'Locals in <module>' })
		).toBeVisible();
		await debuggerOf(bob.page)
			.getByRole('button', { name: /^train train\.py:/ })
			.click();
		await expect(
			debuggerOf(vera.page).getByRole('heading', { name: 'Locals in train' })
		).toBeVisible();

		// Bob evaluates; everyone sees the value and who asked.
		await debuggerOf(bob.page)
			.getByPlaceholder(/Evaluate in the paused frame/)
			.fill('epoch * 100');
		await debuggerOf(bob.page).getByRole('button', { name: 'Evaluate' }).click();
		for (const page of [alice.page, bob.page, vera.page]) {
			await expect(page.getByTestId('debug-results')).toContainText('Bob');
			await expect(page.getByTestId('debug-results')).toContainText('100');
		}

		await shoot(bob.page, 'debug-paused');
		await vera.page.getByRole('button', { name: 'Dashboard', exact: true }).click();
		await expect(vera.page.getByTestId('debug-notice')).toContainText(
			`Paused at train.py:${LINE} (Alice's breakpoint)`
		);
		await shoot(vera.page, 'debug-dashboard');

		// Bob removes the breakpoint and continues: the run completes with its metrics.
		await debuggerOf(bob.page)
			.getByRole('button', { name: `Remove the breakpoint at train.py:${LINE}` })
			.click();
		await expect(alice.page.locator('.monaco-editor .bp-glyph')).toHaveCount(0);
		await debuggerOf(bob.page).getByRole('button', { name: 'Continue' }).click();
		const { code, output } = await exit;
		expect(output).toMatch(/: completed/);
		expect(code).toBe(0);
		await alice.page.getByRole('button', { name: 'Dashboard', exact: true }).click();
		await expect(alice.page.getByTestId('runs-table')).toContainText('completed');
	} finally {
		child.kill('SIGKILL');
	}
});

test('[APPDBG1] [APPDBG2] [DBG11] a conditional breakpoint pauses a run started from the app on the server’s sandbox; the Dashboard says where; Bob continues it to the end', async ({
	people
}) => {
	test.setTimeout(180_000);
	const { alice, bob } = await twoPeople(people);
	await openCode(alice.page);
	await clickMargin(alice.page, LINE);
	const panel = debuggerOf(alice.page);
	await panel.getByRole('button', { name: 'Edit' }).click();
	await panel.getByLabel('Condition').fill('epoch == 2');
	await panel.getByRole('button', { name: 'Save' }).click();
	await expect(panel.getByTestId('debug-breakpoints')).toContainText('when `epoch == 2`');
	await expect(alice.page.locator('.monaco-editor .bp-glyph.bp-conditional')).toHaveCount(1);

	await bob.page.getByTestId('start-training').click();
	const notice = bob.page.getByTestId('debug-notice');
	await expect(notice).toHaveText(/Paused at train\.py:19 \(Alice's breakpoint\)/, {
		timeout: 60_000
	});
	await notice.getByRole('button', { name: 'Open in Code' }).click();
	await expect(debuggerOf(bob.page).getByTestId('debug-status')).toContainText('Paused');
	await expect(local(bob.page, 'epoch')).toContainText('2');
	await debuggerOf(bob.page).getByRole('button', { name: 'Continue' }).click();
	await bob.page.getByRole('button', { name: 'Dashboard', exact: true }).click();
	await expect(bob.page.getByTestId('training-status')).toHaveText('completed', {
		timeout: 60_000
	});
	await expect(bob.page.getByTestId('debug-notice')).toHaveCount(0);
});
