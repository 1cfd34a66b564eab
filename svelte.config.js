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
		serviceWorker: { register: true },
		// A Content-Security-Policy in the built index.html (a <meta>: the app is
		// static). SvelteKit adds the hash of its inline bootstrap script to
		// script-src. Styles allow 'unsafe-inline': Monaco injects <style> elements
		// and Svelte's style: directives set style attributes (styles cannot run
		// code). Monaco's editor worker is a file of our own ('self'); sockets are
		// same-origin ('self' covers ws: and wss: of this host).
		csp: {
			mode: 'hash',
			directives: {
				'default-src': ['self'],
				'script-src': ['self'],
				'style-src': ['self', 'unsafe-inline'],
				'img-src': ['self', 'data:', 'blob:'],
				'font-src': ['self', 'data:'],
				'connect-src': ['self'],
				'worker-src': ['self'],
				'manifest-src': ['self'],
				'media-src': ['self', 'blob:'],
				'object-src': ['none'],
				'base-uri': ['self'],
				'form-action': ['self']
			}
		}
	}
};

export default config;
