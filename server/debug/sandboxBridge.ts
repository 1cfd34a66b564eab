// The sandbox's side of the shared debugger (issue 15, DBG11). A run on the server
// has no network, so its script talks to the debugger through an extra fd (fd 3,
// a socket pair made by the spawn): the script's debugger (`ensemble_client.py
// debug-script 3 …`) reports JSON lines, which are validated like the HTTP events
// (the script is untrusted), and gets the breakpoints and commands pushed from its
// session. No polling: the session lives as long as the process, and a process
// that exits while paused leaves its session `gone` with the pause still shown.

import type { Duplex } from 'node:stream';
import { createInterface } from 'node:readline';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { DebugPerson } from '../protocol/debug.ts';
import type { WorkspaceId } from '../protocol/ids.ts';
import type { Logger } from '../runtime.ts';
import { ScriptEvent } from './schemas.ts';
import type { DebugService } from './service.ts';

/** A longer line than this from the script is dropped (the schema bounds each part). */
const MAX_LINE = 512 * 1024;
const checkEvent = TypeCompiler.Compile(ScriptEvent);

/** One sandboxed run's debug session. */
export interface DebugPipe {
	/** Wires the child's fd 3; `stop` ends the run (Stop from the app). */
	connect(socket: Duplex, stop: () => void): void;
	/** The process exited; ends the session, or marks it gone if it died while paused. */
	exited(status: 'completed' | 'failed' | 'stopped'): Promise<void>;
}

/** Opens a debug session for a sandboxed run, or null (the run goes on undebugged). */
export type SandboxDebugger = (
	workspace: WorkspaceId,
	run: string,
	file: string
) => Promise<DebugPipe | null>;

/**
 * `stopRun`: Stop from the debugger stops the run like the Stop button, naming who
 * stopped it; the script itself is not told (it would exit before the run is marked).
 */
export function sandboxDebugger(
	service: DebugService,
	logger: Logger,
	stopRun:
		((workspace: WorkspaceId, run: string, by: DebugPerson) => Promise<unknown>) | null = null
): SandboxDebugger {
	return async (workspace, run, file) => {
		let session;
		try {
			session = await service.open(workspace, { file, run, via: 'sandbox' }, true);
		} catch (err) {
			logger.warn({ err, workspace, run }, 'the run goes on without the debugger');
			return null;
		}
		const s = session;
		let chain: Promise<void> = Promise.resolve();
		let unsubscribe = (): void => undefined;
		return {
			connect(socket, stop) {
				s.stopHook = (by) => {
					if (!stopRun) return stop();
					stopRun(workspace, run, by).catch((err: unknown) => {
						logger.warn({ err, run }, 'stopping the run from the debugger failed; killing it');
						stop();
					});
				};
				socket.on('error', () => undefined);
				unsubscribe = s.subscribe((message) => {
					if (message.t === 'command' && message.command === 'stop') return;
					if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
				});
				const lines = createInterface({ input: socket, crlfDelay: Infinity });
				// A killed script resets its end (ECONNRESET): readline re-emits the socket's errors.
				lines.on('error', () => undefined);
				lines.on('line', (line) => {
					let event: unknown = null;
					try {
						event = line.length <= MAX_LINE ? JSON.parse(line) : null;
					} catch {
						event = null;
					}
					if (!checkEvent.Check(event)) {
						logger.warn({ workspace, run, size: line.length }, 'a malformed debugger event');
						return;
					}
					chain = chain
						.then(() => s.event(event))
						.catch((err: unknown) => logger.error({ err, run }, 'a debugger event failed'));
				});
				socket.on('close', () => unsubscribe());
			},
			async exited(status) {
				unsubscribe();
				await chain;
				if (status === 'stopped') await s.end('ended', 'The run was stopped.');
				else if (s.state()?.status === 'paused')
					await s.end('gone', 'The sandboxed script died while paused.');
				else await s.end('ended', `The script ${status === 'completed' ? 'finished' : 'failed'}.`);
			}
		};
	};
}
