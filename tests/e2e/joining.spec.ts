// Joining and data (issue 17): the join page says what the invitation is for,
// the invite dialog explains the roles, the data set list is live for everyone.
import { test, expect, createWorkspace, inviteLink, twoPeople, expectLive } from './fixtures.ts';

test('[APPJOIN1] the join page names the workspace, the inviter and the role; sign-up takes the invited e-mail', async ({
	people
}) => {
	const alice = await people.add('Alice');
	await createWorkspace(alice, 'Bird songs');
	await alice.page.getByRole('button', { name: 'Invite' }).click();
	await alice.page.getByLabel('Role').selectOption('viewer');
	await expect(alice.page.getByTestId('role-summary')).toHaveText(
		'Viewer: sees everything live and chats, but changes nothing.'
	);
	await alice.page.getByLabel('Role').selectOption('editor');
	await expect(alice.page.getByTestId('role-summary')).toContainText('Editor: edits code');
	await alice.page.getByRole('button', { name: 'Close' }).click();

	const bob = await people.add('Bob', { signUp: false });
	const link = await inviteLink(alice, bob.email, 'editor');
	await bob.page.goto(link);
	await expect(bob.page.getByRole('heading', { name: 'Join Bird songs' })).toBeVisible();
	await expect(bob.page.getByTestId('invite-summary')).toHaveText(
		/Alice\s+invited you to\s+Bird songs\s+as\s+an\s+editor\s+\(an\s+editor\s+edits code/
	);
	await bob.page.getByRole('link', { name: 'Sign up' }).click();
	await expect(bob.page.getByLabel('E-mail')).toHaveValue(bob.email.toLowerCase());
	await bob.page.getByLabel('Name').fill(bob.name);
	await bob.page.getByLabel('Password').fill(bob.password);
	await bob.page.getByRole('button', { name: 'Sign up' }).click();
	await bob.page.waitForURL(/\/w\/[^/]+$/);
	await expectLive(bob.page);
	await expect(bob.page.locator('.role')).toHaveText('editor');
});

test('[APPDATA1] an upload shows progress and success and appears for the others at once; a data set can be deleted', async ({
	people
}) => {
	const { alice, bob } = await twoPeople(people);
	for (const p of [alice, bob]) {
		await p.page.getByRole('button', { name: 'Data', exact: true }).click();
		await expect(p.page.getByTestId('dataset-list')).toContainText('Iris');
	}
	const rows = ['height,weight,kind'];
	for (let i = 0; i < 30; i++) rows.push(`${1 + i * 0.01},${2 + i},${i % 2 ? 'small' : 'large'}`);
	// Dropped on the drop zone, as a person drags a file from their desktop.
	const transfer = await alice.page.evaluateHandle(
		(csv) => {
			const dt = new DataTransfer();
			dt.items.add(new File([csv], 'animals.csv', { type: 'text/csv' }));
			return dt;
		},
		rows.join('\n') + '\n'
	);
	await alice.page.getByTestId('dataset-drop').dispatchEvent('drop', { dataTransfer: transfer });
	await expect(alice.page.getByTestId('data-notice')).toHaveText(
		'animals.csv uploaded: 30 rows, 3 columns.'
	);
	// Bob did nothing: the list changed under him.
	await expect(bob.page.getByTestId('dataset-list')).toContainText('animals.csv');

	// A bad file: every problem listed.
	await alice.page.getByLabel('Upload a CSV').setInputFiles({
		name: 'bad.csv',
		mimeType: 'text/csv',
		buffer: Buffer.from('a,b,label\n1,2,x\n3,oops,y\n4\n5,6,z\n7,8,w\n')
	});
	await expect(alice.page.getByTestId('data-error')).toContainText(
		'2 problems: line 4 has 1 fields'
	);
	await expect(alice.page.getByTestId('data-error')).toContainText("'oops' is not a number");

	alice.page.once('dialog', (d) => void d.accept());
	await alice.page.getByRole('button', { name: 'Delete animals.csv' }).click();
	await expect(alice.page.getByTestId('data-notice')).toHaveText('animals.csv deleted.');
	await expect(bob.page.getByTestId('dataset-list')).not.toContainText('animals.csv');
});
