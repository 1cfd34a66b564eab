// Builds the app when build/ is missing or older than its sources, then starts
// the real server (port 0, throwaway data directory) for the whole run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../server/main.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function newestMtime(dir: string): number {
	let newest = 0;
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
	}
	return newest;
}

function buildIsStale(): boolean {
	let built: number;
	try {
		built = statSync(join(ROOT, 'build', 'index.html')).mtimeMs;
	} catch {
		return true;
	}
	const sources = ['src', 'static', 'server/protocol'].map((d) => newestMtime(join(ROOT, d)));
	return Math.max(...sources) > built;
}

export default async function globalSetup(): Promise<() => Promise<void>> {
	if (buildIsStale()) {
		execFileSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build'], {
			cwd: ROOT,
			stdio: 'inherit'
		});
	}
	const dataDir = mkdtempSync(join(tmpdir(), 'ensemble-e2e-'));
	const server = await startServer({
		port: 0,
		host: '127.0.0.1',
		dataDir,
		logLevel: 'warn'
	});
	// Workers inherit the environment set here.
	process.env.ENSEMBLE_URL = server.url;
	return async () => {
		await server.close();
		rmSync(dataDir, { recursive: true, force: true });
	};
}
