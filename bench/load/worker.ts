// A load generator process: receives one job over IPC, runs it, sends the result.

import type { Job } from './jobs.ts';
import { nextJob, send } from './marks.ts';
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

void nextJob().then((job) =>
	run(job).then(
		(result) => {
			send({ type: 'result', result });
			process.disconnect();
			// Providers keep timers; the job is done.
			setTimeout(() => process.exit(0), 100);
		},
		(err: unknown) => {
			send({
				type: 'error',
				message: err instanceof Error ? (err.stack ?? err.message) : String(err)
			});
			setTimeout(() => process.exit(1), 100);
		}
	)
);
process.on('disconnect', () => process.exit(0));
