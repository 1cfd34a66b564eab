import { defineConfig } from 'vitest/config';

// Server, protocol and integration tests run in Node against real sockets and databases.
export default defineConfig({
	// The app's modules that tests import name the shared protocol as the app does.
	resolve: { alias: { $shared: new URL('./server/protocol', import.meta.url).pathname } },
	test: {
		include: ['tests/**/*.test.ts'],
		exclude: ['tests/e2e/**'],
		environment: 'node',
		testTimeout: 60_000,
		hookTimeout: 60_000
	}
});
