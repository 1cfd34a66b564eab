// The process that runs one server under test. The orchestrator forks it, reads
// its CPU time and memory over IPC, and asks it to close. Usage (forked):
// node --expose-gc bench/servers/host.ts <kind> <dataDir> <store:0|1>

import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { HostReply, HostRequest, RunningServer, ServerKind, ServerSample } from './types.ts';

function send(reply: HostReply): void {
	process.send?.(reply);
}

function vmHWM(): number {
	const status = readFileSync('/proc/self/status', 'utf8');
	const match = /VmHWM:\s+(\d+) kB/.exec(status);
	return match ? Number(match[1]) * 1024 : Number.NaN;
}

function sample(gc: boolean): ServerSample {
	// --expose-gc: a sample taken for memory per room/connection wants live data only.
	const collect = (globalThis as { gc?: () => void }).gc;
	if (gc && collect) {
		collect();
		collect();
	}
	const cpu = process.cpuUsage();
	const mem = process.memoryUsage();
	return {
		cpuUserUs: cpu.user,
		cpuSystemUs: cpu.system,
		rss: mem.rss,
		heapUsed: mem.heapUsed,
		external: mem.external + mem.arrayBuffers,
		vmHWM: vmHWM()
	};
}

async function start(kind: ServerKind, dataDir: string, store: boolean): Promise<RunningServer> {
	const options = { dataDir, store };
	switch (kind) {
		case 'ensemble':
			return (await import('./ensemble.ts')).start(options);
		case 'ywebsocket':
			return (await import('./ywebsocket.ts')).start(options);
		case 'hocuspocus':
			return (await import('./hocuspocus.ts')).start(options);
	}
}

const [kind, dataDir, store] = process.argv.slice(2);
if (kind !== 'ensemble' && kind !== 'ywebsocket' && kind !== 'hocuspocus') {
	throw new Error(`unknown server kind ${kind}`);
}
if (!dataDir) throw new Error('host.ts needs a data directory');

const server = await start(kind, dataDir, store === '1');
let inspector: Session | null = null;

/** Profiles only the measured window (a --cpu-prof profile is mostly start-up). */
async function profile(file: string | null): Promise<void> {
	if (file === null) {
		inspector = new Session();
		inspector.connect();
		await inspector.post('Profiler.enable');
		await inspector.post('Profiler.start');
		return;
	}
	if (!inspector) throw new Error('profile stop without start');
	const { profile: result } = await inspector.post('Profiler.stop');
	writeFileSync(file, JSON.stringify(result));
	inspector.disconnect();
	inspector = null;
}

process.on('message', (message: HostRequest) => {
	if (message.type === 'profile') {
		profile(message.file).then(
			() => send({ type: 'profile', id: message.id }),
			(err: unknown) => send({ type: 'error', message: `profile: ${String(err)}` })
		);
	} else if (message.type === 'sample') {
		send({ type: 'sample', id: message.id, sample: sample(message.gc) });
	} else if (message.type === 'close') {
		server.close().then(
			() => {
				send({ type: 'closed', id: message.id });
				process.disconnect();
				process.exit(0);
			},
			(err: unknown) => {
				send({ type: 'error', message: `close failed: ${String(err)}` });
				process.exit(1);
			}
		);
	}
});
// The orchestrator going away must not leave a server behind.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', port: server.port });
