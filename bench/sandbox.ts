// How long "Start training" takes to show something: from the POST that queues a
// run of the workspace's starter train.py on the server's sandbox (bubblewrap) to
// the first metric point arriving in the run's document at a watching client, as
// a person on the Dashboard sees it (issue 12). Each run is stopped once it has
// reported, and the next starts only after it ended, so every run meets an idle
// queue. Not a test: run it with `npm run bench:sandbox` (RUNS=10 by default).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { startServer } from '../server/main.ts';
import type { RunRecord } from '../server/protocol/training.ts';
import { ApiClient } from '../tests/helpers/http.ts';
import { connect, type Client } from './lib/clients.ts';
import { latency } from './lib/stats.ts';

const RUNS = Number(process.env.RUNS ?? 10);

/** Resolves when `ready()` holds, checked on every change of `doc`. */
function when(doc: Y.Doc, ready: () => boolean): Promise<void> {
	return new Promise((resolve) => {
		const check = () => {
			if (!ready()) return;
			doc.off('afterTransaction', check);
			resolve();
		};
		doc.on('afterTransaction', check);
		check();
	});
}

async function main(): Promise<void> {
	const dataDir = await mkdtemp(join(tmpdir(), 'ensemble-bench-sandbox-'));
	const server = await startServer({
		env: {},
		port: 0,
		host: '127.0.0.1',
		logLevel: 'silent',
		secret: 'measure-secret-measure-secret-0123456789abcdef',
		dataDir
	});
	const port = Number(new URL(server.url).port);
	const owner = new ApiClient(server.url);
	await owner.signup('Bench', `bench.${process.pid}@example.com`);
	const ws = (await owner.createWorkspace('sandbox')).id;
	const runners = await owner.get<{ server: { available: boolean; reason?: string } }>(
		`/api/workspaces/${ws}/runners`
	);
	if (!runners.body.server.available) {
		throw new Error(`the server's sandbox is not available: ${runners.body.server.reason}`);
	}
	const watch = async (doc: string): Promise<Client> => {
		const client = connect({
			kind: 'ensemble',
			port,
			room: `${ws}/${doc}`,
			token: await owner.wsToken(ws)
		});
		await client.synced;
		return client;
	};
	const live = await watch('live');
	const runOf = (id: string) =>
		(live.doc.getMap('runs').get(id) as Y.Map<unknown> | undefined)?.toJSON() as
			RunRecord | undefined;

	const toFirstMetric: number[] = [];
	for (let i = 0; i < RUNS; i++) {
		const sent = performance.now();
		const started = await owner.post<{ run: { id: string } }>(`/api/workspaces/${ws}/runs`, {
			runner: 'server'
		});
		if (started.status >= 300) throw new Error(`start refused: ${JSON.stringify(started.body)}`);
		const id = started.body.run.id;
		const run = await watch(`run/${id}`);
		const metrics = run.doc.getArray('metrics');
		await when(run.doc, () => metrics.length > 0);
		const took = performance.now() - sent;
		toFirstMetric.push(took);
		process.stdout.write(`run ${i + 1}: first metric after ${took.toFixed(0)} ms\n`);
		await owner.post(`/api/workspaces/${ws}/runs/${id}/stop`);
		await when(live.doc, () => {
			const status = runOf(id)?.status;
			return status !== undefined && !['queued', 'running'].includes(status);
		});
		run.destroy();
	}

	const l = latency(toFirstMetric);
	process.stdout.write(
		`\nqueued → first metric, starter train.py in the sandbox, ${l.n} runs: ` +
			`p50 ${l.p50.toFixed(0)} ms, p95 ${l.p95.toFixed(0)} ms, max ${l.max.toFixed(0)} ms\n`
	);
	live.destroy();
	await server.close();
	await rm(dataDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
	process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
	process.exit(1);
});
