// What a person sees when the server refuses something for their own good
// (issue 19): a password that is too common, chat sent too fast.
import { test, expect, createWorkspace } from './fixtures.ts';

test('[SEC4] sign-up with a common password says why, on the password field, and the account is made with a better one', async ({
	people
}) => {
	const ann = await people.add('Ann', { signUp: false });
	const page = ann.page;
	await page.goto('/signup');
	await expect(
		page.getByText('The commonest passwords and repeated characters are refused.')
	).toBeVisible();
	await page.getByLabel('Name').fill(ann.name);
	await page.getByLabel('E-mail').fill(ann.email);
	await page.getByLabel('Password').fill('password');
	await page.getByRole('button', { name: 'Sign up' }).click();
	await expect(page.getByTestId('auth-error')).toContainText(
		'The password is one of the most common passwords'
	);
	await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
	await page.screenshot({ path: 'test-results/screens/signup-common-password.png' });
	await page.getByLabel('Password').fill(ann.password);
	await page.getByRole('button', { name: 'Sign up' }).click();
	await expect(page.getByRole('heading', { name: 'Your workspaces' })).toBeVisible();
});

test('[SEC6] chat sent too fast waits with a plain note and goes out by itself', async ({
	people
}) => {
	const alice = await people.add('Alice');
	await createWorkspace(alice, 'Chatty');
	const page = alice.page;
	const id = new URL(page.url()).pathname.split('/').pop() ?? '';
	// The server allows a person a burst of 10 messages and 16 KiB, then one message
	// every 2 s and 512 bytes a second: use up both from this browser's session…
	const statuses = await page.evaluate(async (workspace) => {
		const post = (text: string) =>
			fetch(`/api/workspaces/${workspace}/chat`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ text })
			}).then((r) => r.status);
		const out = [await post('€'.repeat(2000)), await post('€'.repeat(2000))];
		out.push(await post('é'.repeat(2000)));
		for (let i = 0; i < 7; i++) out.push(await post(`warming up ${i}`));
		return out;
	}, id);
	expect(statuses.filter((st) => st === 201)).toHaveLength(10);
	// …then write a long message (3 KB: about 5 s of budget) in the chat box.
	const text = `a long thought ${'é'.repeat(1500)}`;
	const input = page.getByLabel('Message');
	await input.fill(text);
	await input.press('Enter');
	const chat = page.getByTestId('chat');
	await expect(page.getByTestId('chat-notice')).toContainText('You are sending messages too fast');
	await expect(page.getByTestId('chat-queued')).toContainText('waiting: sending too fast');
	await page.screenshot({ path: 'test-results/screens/chat-too-fast.png' });
	// Nothing is lost: the last one arrives once the server lets it, and the note goes.
	await expect(chat.locator('li:not(.queued)', { hasText: 'a long thought' })).toBeVisible({
		timeout: 20_000
	});
	await expect(page.getByTestId('chat-notice')).toHaveCount(0);
	await expect(page.getByTestId('chat-queued')).toHaveCount(0);
});
