import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// A client-side app: the Node server serves build/ and falls back to index.html.
		adapter: adapter({ fallback: 'index.html', strict: false }),
		alias: {
			// Protocol constants and the document schema, shared with the server.
			$shared: 'server/protocol',
			// y-monaco imports monaco-editor/esm/vs/…, which Monaco's exports map hides.
			'monaco-editor/esm/vs': 'node_modules/monaco-editor/esm/vs'
		},
		serviceWorker: { register: true }
	}
};

export default config;
