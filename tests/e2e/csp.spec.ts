// The app's Content-Security-Policy (CSP1): the built page carries it, the app
// works under it (Monaco and its worker included) with no violation, and it is
// really enforced (an injected inline script does not run and is reported).
import { test, expect, createWorkspace, openCode } from './fixtures.ts';

test('[CSP1] the app runs under its Content-Security-Policy: Monaco and its worker load, nothing is refused, and an injected inline script is blocked', async ({
	people
}) => {
	const alice = await people.add('Alice');
	const page = alice.page;
	const policy = await page
		.locator('meta[http-equiv="content-security-policy"]')
		.getAttribute('content');
	expect(policy).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
	expect(policy).toContain("object-src 'none'");

	await createWorkspace(alice, 'CSP');
	await openCode(page);
	// Typing uses Monaco's worker (tokenizing, diffing): it must have started.
	await page.locator('.monaco-editor .view-lines').click();
	await page.keyboard.type('# typed under the CSP\n');
	await expect(page.locator('.monaco-editor .view-lines')).toContainText('typed under the CSP');
	expect(alice.cspViolations).toEqual([]);

	// Enforced, and the detector sees it: an inline script injected now is refused.
	const ran = await page.evaluate(() => {
		const script = document.createElement('script');
		script.textContent = 'document.body.dataset.injected = "yes"';
		document.body.append(script);
		return document.body.dataset.injected ?? 'no';
	});
	expect(ran).toBe('no');
	await expect.poll(() => alice.cspViolations.length).toBeGreaterThan(0);
	expect(alice.cspViolations.join('\n')).toMatch(/script/i);
	// Expected here: cleared so that the fixture's check (no violations) holds.
	alice.cspViolations.length = 0;
});
