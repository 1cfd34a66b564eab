// A load generator process: receives one job over IPC, runs it, sends the result.

import type { Job, WorkerMessage } from './jobs.ts';
import { nextJob, sendAndFlush } from './marks.ts';
import { replay } from './replay.ts';
import { clients } from './clientsJob.ts';
import { coldLoad, durability, idle, loaders, seed } from './misc.ts';

async function run(job: Job): Promise<unknown> {
	switch (job.kind) {
		case 'replay':
			return replay(job);
		case 'clients':
			return clients(job);
		case 'coldLoad':
			return coldLoad(job);
		case 'seed':
			return seed(job);
		case 'loaders':
			return loaders(job);
		case 'idle':
			return idle(job);
		case 'durability':
			return durability(job);
	}
}

async function main(): Promise<void> {
	const job = await nextJob();
	let message: WorkerMessage;
	try {
		message = { type: 'result', result: await run(job) };
	} catch (err) {
		message = {
			type: 'error',
			message: err instanceof Error ? (err.stack ?? err.message) : String(err)
		};
	}
	await sendAndFlush(message);
	// Providers keep timers; the job is done.
	process.exit(message.type === 'result' ? 0 : 1);
}

main().catch((err: unknown) => {
	process.stderr.write(`bench worker: ${String(err)}\n`);
	process.exit(1);
});
process.on('disconnect', () => process.exit(0));
