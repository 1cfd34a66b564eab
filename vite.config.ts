import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	// Fastify's cookie@2 is hoisted; bundle SvelteKit's own cookie@0.6 into its build step.
	ssr: { noExternal: ['cookie'] },
	server: {
		proxy: {
			'/api': 'http://localhost:8000',
			'/ws': { target: 'ws://localhost:8000', ws: true }
		}
	}
});
