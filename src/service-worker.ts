// Caches the app shell so a workspace opened once opens again offline. The API
// and the relay are never cached: documents live in IndexedDB (y-indexeddb).
/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />

import { build, files, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `ensemble-shell-${version}`;
/** The client-side app's one HTML page (adapter-static fallback), served for every route. */
const SHELL = '/';
const ASSETS = [...build, ...files, SHELL];

sw.addEventListener('install', (event) => {
	event.waitUntil(
		caches
			.open(CACHE)
			.then((cache) => cache.addAll(ASSETS))
			.then(() => sw.skipWaiting())
	);
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		caches
			.keys()
			.then((keys) =>
				Promise.all(
					keys.filter((k) => k !== CACHE && k.startsWith('ensemble-')).map((k) => caches.delete(k))
				)
			)
			.then(() => sw.clients.claim())
	);
});

function isAppRequest(url: URL): boolean {
	return (
		url.origin === sw.location.origin &&
		!url.pathname.startsWith('/api/') &&
		!url.pathname.startsWith('/ws/')
	);
}

sw.addEventListener('fetch', (event) => {
	const request = event.request;
	if (request.method !== 'GET') return;
	const url = new URL(request.url);
	if (!isAppRequest(url)) return;

	if (request.mode === 'navigate') {
		// Network first (a fresh shell when online), the cached shell when offline.
		event.respondWith(
			fetch(request).catch(async () => {
				const cached = await caches.match(SHELL);
				if (cached) return cached;
				throw new Error(`offline and no cached shell for ${url.pathname}`);
			})
		);
		return;
	}

	// Built assets are immutable: cache first.
	event.respondWith(caches.match(request).then((cached) => cached ?? fetch(request)));
});
