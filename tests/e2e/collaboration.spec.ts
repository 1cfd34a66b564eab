import {
	test,
	expect,
	twoPeople,
	openCode,
	editorText,
	createWorkspace,
	inviteLink
} from './fixtures.ts';

test('[APP2] text typed in Monaco appears for the other, with the cursor labelled with the typist', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	await openCode(alice.page);
	await openCode(bob.page);
	await expect.poll(() => editorText(bob.page)).toContain('def train');

	await alice.page.locator('.monaco-editor .view-lines').click();
	await alice.page.keyboard.press('ControlOrMeta+End');
	await alice.page.keyboard.type('\n# tuned by alice');
	await expect.poll(() => editorText(bob.page)).toContain('# tuned by alice');

	// Bob sees Alice's caret, in her color, labelled with her name.
	const head = bob.page.locator('.yRemoteSelectionHead').first();
	await expect(head).toBeVisible();
	const label = await head.evaluate((el) => getComputedStyle(el, '::after').content);
	expect(label).toBe('"Alice"');

	// And Bob's typing reaches Alice.
	await bob.page.locator('.monaco-editor .view-lines').click();
	await bob.page.keyboard.press('ControlOrMeta+Home');
	await bob.page.keyboard.type('# reviewed by bob\n');
	await expect.poll(() => editorText(alice.page)).toContain('# reviewed by bob');
});

test('[APP3] a hyperparameter change appears for the other; a bad value is refused', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	const aliceLr = alice.page.getByLabel('learning_rate', { exact: true });
	const bobLr = bob.page.getByLabel('learning_rate', { exact: true });
	await expect(bobLr).toHaveValue('0.01');

	await aliceLr.fill('0.003');
	await expect(bobLr).toHaveValue('0.003');

	// While Alice is in the field, Bob sees that she is editing it.
	await expect(bob.page.getByTestId('field-learning_rate').getByTestId('editing-badge')).toHaveText(
		'Alice is editing'
	);

	// A negative learning rate is explained next to the field and never synced.
	await aliceLr.fill('-1');
	await expect(
		alice.page.getByTestId('field-learning_rate').getByTestId('field-error')
	).toContainText('greater than 0');
	await expect(aliceLr).toHaveAttribute('aria-invalid', 'true');
	// A valid change on another field goes through, proving the bad one was not just slow.
	await alice.page.getByLabel('epochs', { exact: true }).fill('12');
	await expect(bob.page.getByLabel('epochs', { exact: true })).toHaveValue('12');
	await expect(bobLr).toHaveValue('0.003');

	// Adding a key reaches the other side.
	await bob.page.getByLabel('New key').fill('dropout');
	await bob.page.getByLabel('Value').fill('0.25');
	await bob.page.getByRole('button', { name: 'Add' }).click();
	await expect(alice.page.getByLabel('dropout', { exact: true })).toHaveValue('0.25');
});

test('[APP4] a viewer sees everything live and cannot change anything', async ({ people }) => {
	const { alice, bob } = await twoPeople(people, 'viewer');
	const bobPage = bob.page;
	await expect(bobPage.locator('.role')).toHaveText('viewer');
	await expect(bobPage.getByTestId('readonly-note')).toContainText('viewer');
	await expect(bobPage.getByLabel('learning_rate', { exact: true })).toBeDisabled();
	await expect(bobPage.getByLabel('optimizer', { exact: true })).toBeDisabled();
	await expect(bobPage.getByLabel('New key')).toHaveCount(0);
	await expect(bobPage.getByRole('button', { name: 'Invite' })).toHaveCount(0);

	// Live: Alice's change shows up for the viewer.
	await alice.page.getByLabel('batch_size', { exact: true }).fill('64');
	await expect(bobPage.getByLabel('batch_size', { exact: true })).toHaveValue('64');

	// Code is read-only for the viewer: typing changes nothing, for anyone.
	await openCode(alice.page);
	await openCode(bobPage);
	await expect(
		bobPage.getByText('Read-only: only owners and editors can edit code.')
	).toBeVisible();
	await expect(bobPage.getByRole('button', { name: '+ New' })).toBeDisabled();
	const before = await editorText(alice.page);
	await bobPage.locator('.monaco-editor .view-lines').click();
	await bobPage.keyboard.type('viewer was here');
	expect(await editorText(bobPage)).not.toContain('viewer was here');
	// Alice types after: once her text reaches Bob, anything Bob had sent would have too.
	await alice.page.locator('.monaco-editor .view-lines').click();
	await alice.page.keyboard.press('ControlOrMeta+End');
	await alice.page.keyboard.type('\n# owner mark');
	await expect.poll(() => editorText(bobPage)).toContain('# owner mark');
	expect(await editorText(alice.page)).not.toContain('viewer was here');
	expect((await editorText(alice.page)).length).toBeGreaterThan(before.length);
	await expect(bobPage.getByTestId('sync-status')).toHaveAttribute('data-state', 'saved');
});

test('[APPPRES1] join and leave show toasts', async ({ people }) => {
	const alice = await people.add('Alice');
	const bob = await people.add('Bob');
	await createWorkspace(alice, 'Presence');
	const link = await inviteLink(alice, bob.email, 'editor');
	// No waiting on Bob's side first: the toast is looked for while it shows.
	await bob.page.goto(link);
	await expect(
		alice.page.getByTestId('toast').filter({ hasText: 'Bob joined the workspace' })
	).toBeVisible();
	await expect(alice.page.getByTestId('user-count')).toHaveText('2 users online');
	await expect(alice.page.locator('[data-user="Bob"]')).toHaveAttribute(
		'title',
		'Bob - editor - Dashboard'
	);
	// Presence carries the view.
	await bob.page.getByRole('button', { name: 'Code', exact: true }).click();
	await expect(alice.page.locator('[data-user="Bob"]')).toHaveAttribute(
		'title',
		'Bob - editor - Code'
	);
	await bob.page.close();
	// At once: not counted, shown dimmed; "left" once he has not come back (LEAVE_GRACE_MS).
	await expect(alice.page.getByTestId('user-count')).toHaveText('1 user online');
	await expect(alice.page.locator('[data-user="Bob"]')).toHaveAttribute('data-online', 'false');
	await expect(
		alice.page.getByTestId('toast').filter({ hasText: 'Bob left the workspace' })
	).toBeVisible({ timeout: 20_000 });
	await expect(alice.page.locator('[data-user="Bob"]')).toHaveCount(0);
});

test('[APPPRES1] a browser notification too when the tab is hidden and notifications are allowed', async ({
	people
}) => {
	const alice = await people.add('Alice');
	// Alice's tab is in the background and she allowed notifications.
	await alice.context.addInitScript(() => {
		const shown: string[] = [];
		Object.defineProperty(window, '__notifications', { value: shown });
		Object.defineProperty(document, 'hidden', { get: () => true });
		class FakeNotification {
			static permission = 'granted';
			static requestPermission = () => Promise.resolve('granted');
			constructor(title: string, options?: { body?: string }) {
				shown.push(`${title}: ${options?.body ?? ''}`);
			}
		}
		Object.defineProperty(window, 'Notification', { value: FakeNotification });
	});
	const bob = await people.add('Bob');
	await createWorkspace(alice, 'Background tab');
	const link = await inviteLink(alice, bob.email, 'viewer');
	await bob.page.goto(link);
	const shown = () =>
		alice.page.evaluate(() => (window as unknown as { __notifications: string[] }).__notifications);
	await expect.poll(shown).toContain('Ensemble: Bob joined the workspace');
	await bob.page.close();
	await expect.poll(shown, { timeout: 20_000 }).toContain('Ensemble: Bob left the workspace');
});

test('[APP2] files added, renamed and deleted by one are seen by the other', async ({ people }) => {
	const { alice, bob } = await twoPeople(people);
	await openCode(alice.page);
	await openCode(bob.page);
	const bobFiles = bob.page.getByRole('navigation', { name: 'Files' });

	await alice.page.getByRole('button', { name: '+ New' }).click();
	await alice.page.getByLabel('New file name').fill('data.py');
	await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
	await expect(bobFiles.getByRole('button', { name: 'data.py', exact: true })).toBeVisible();

	await alice.page.getByRole('button', { name: 'Rename train.py' }).click();
	await alice.page.getByLabel('New name for train.py').fill('main.py');
	await alice.page.getByRole('button', { name: 'OK' }).click();
	await expect(bobFiles.getByRole('button', { name: 'main.py', exact: true })).toBeVisible();
	await expect(bobFiles.getByRole('button', { name: 'train.py', exact: true })).toHaveCount(0);
	// The renamed file keeps its text.
	await bobFiles.getByRole('button', { name: 'main.py', exact: true }).click();
	await expect.poll(() => editorText(bob.page)).toContain('def train');

	alice.page.once('dialog', (d) => void d.accept());
	await alice.page.getByRole('button', { name: 'Delete data.py' }).click();
	await expect(bobFiles.getByRole('button', { name: 'data.py', exact: true })).toHaveCount(0);
});
