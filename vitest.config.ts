import { defineConfig } from 'vitest/config';

// Server, protocol and integration tests run in Node against real sockets and databases.
export default defineConfig({
	test: {
		include: ['tests/**/*.test.ts'],
		exclude: ['tests/e2e/**'],
		environment: 'node',
		testTimeout: 20_000,
		hookTimeout: 20_000
	}
});
