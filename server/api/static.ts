// Serves the built app (build/) when it exists, with the SPA fallback: any GET
// outside /api, /ws and the operator endpoints that is not a file gets index.html.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

export function hasBuild(staticDir: string): boolean {
	return existsSync(join(staticDir, 'index.html'));
}

export async function registerStatic(app: FastifyInstance, staticDir: string): Promise<void> {
	await app.register(fastifyStatic, {
		root: staticDir,
		index: ['index.html'],
		setHeaders(reply, path) {
			// SvelteKit puts hashed, never-changing files under _app/immutable.
			if (path.includes(`${join('_app', 'immutable')}`)) {
				void reply.header('cache-control', 'public, max-age=31536000, immutable');
			} else {
				void reply.header('cache-control', 'no-cache');
			}
		}
	});
}
