// End-to-end tests in Debian's Chromium (no browser download), against the real
// server started by the global setup (port 0, a temporary data directory).
import { defineConfig } from '@playwright/test';

export const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync'
];

export default defineConfig({
	testDir: 'tests/e2e',
	testMatch: '**/*.spec.ts',
	globalSetup: './tests/e2e/global-setup.ts',
	// Two cores shared with others: one worker, tests in order.
	workers: 1,
	fullyParallel: false,
	timeout: 60_000,
	expect: { timeout: 10_000 },
	reporter: [['list']],
	outputDir: 'test-results',
	use: {
		browserName: 'chromium',
		headless: true,
		launchOptions: { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS },
		screenshot: 'only-on-failure',
		trace: 'off',
		viewport: { width: 1366, height: 860 }
	}
});
