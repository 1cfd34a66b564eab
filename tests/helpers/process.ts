// The server as a child process (`node server/main.ts`, as operators run it), for
// tests that kill it. The port is read from its "listening" log line.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withDeadline } from './wait.ts';
import { TEST_SECRET } from './server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;

export interface ChildServer {
	readonly child: ChildProcess;
	readonly port: number;
	readonly url: string;
	readonly wsUrl: string;
	/** Resolves with the exit code (or the signal's name) when the process ends. */
	readonly exited: Promise<number | string>;
	/** Log lines seen so far (JSON, from pino). */
	readonly lines: string[];
}

export async function spawnServer(
	dataDir: string,
	env: Record<string, string> = {}
): Promise<ChildServer> {
	const child = spawn(NODE, ['server/main.ts'], {
		cwd: ROOT,
		env: {
			PATH: process.env.PATH ?? '',
			PORT: '0',
			HOST: '127.0.0.1',
			DATA_DIR: dataDir,
			SECRET: TEST_SECRET,
			LOG_LEVEL: 'info',
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	const lines: string[] = [];
	const exited = new Promise<number | string>((resolve) => {
		child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
	});
	const stderr: string[] = [];
	child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
	const port = await withDeadline(
		new Promise<number>((resolve, reject) => {
			const rl = createInterface({ input: child.stdout });
			rl.on('line', (line) => {
				lines.push(line);
				if (!line.includes('"msg":"listening"')) return;
				const parsed = JSON.parse(line) as { port?: number };
				if (typeof parsed.port === 'number') resolve(parsed.port);
			});
			void exited.then((code) =>
				reject(new Error(`server exited (${code}) before listening: ${stderr.join('')}`))
			);
		}),
		'the child server to listen',
		// Generous: on a machine shared by several test runs a start has taken 14 s.
		60_000
	);
	const url = `http://127.0.0.1:${port}`;
	return { child, port, url, wsUrl: `ws://127.0.0.1:${port}`, exited, lines };
}

/** Kills the child if it is still running (cleanup after a failed test). */
export async function stopChild(server: ChildServer | undefined): Promise<void> {
	if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
	server.child.kill('SIGKILL');
	await server.exited;
}
