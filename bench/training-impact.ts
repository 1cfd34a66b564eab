// Does a training run steal the relay's event loop? Measures the delivery time of
// edits in one workspace (a writer at 20 edits/s, READERS stock y-websocket
// clients) while another workspace has no run, and while it trains (epochs high,
// a client watching its metrics), alternating phases to spread out machine noise.
// Not a test: run it with `npm run bench:training` (RUNNER=server for the sandbox).
// Prints p50/p99 per condition and the ratio (the target is p99 with a run ≤ 1.2× without).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';
import { startServer } from '../server/main.ts';
import { schema } from '../server/protocol/docs.ts';
import { ApiClient } from '../tests/helpers/http.ts';

const READERS = Number(process.env.READERS ?? 20);
const PHASE_MS = Number(process.env.PHASE_MS ?? 8000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const EDITS_PER_S = 20;
/** Where the measured run trains: the built-in model (default) or `server`, the sandbox. */
const RUNNER = process.env.RUNNER === 'server' ? 'server' : 'builtin';
const BUSY_SCRIPT = [
	'import json, math, time',
	'step, x, last = 0, 0.0, time.monotonic()',
	'while True:',
	'    for i in range(20_000):',
	'        x = math.sin(x + i)',
	'    if time.monotonic() - last >= 0.05:',
	'        step, last = step + 1, time.monotonic()',
	'        print(json.dumps({"epoch": step, "loss": abs(x)}), flush=True)'
].join('\n');

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function connect(
	url: string,
	room: string,
	token: string
): Promise<{ doc: Y.Doc; provider: WebsocketProvider }> {
	const doc = new Y.Doc();
	const provider = new WebsocketProvider(`${url.replace(/^http/, 'ws')}/ws`, room, doc, {
		WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
		disableBc: true,
		params: { token }
	});
	return new Promise((resolve) => {
		const onSync = (synced: boolean) => {
			if (!synced) return;
			provider.off('sync', onSync);
			resolve({ doc, provider });
		};
		provider.on('sync', onSync);
	});
}

async function main(): Promise<void> {
	// Every provider adds an exit listener; there are READERS of them on purpose.
	process.setMaxListeners(READERS + 20);
	const dataDir = await mkdtemp(join(tmpdir(), 'ensemble-relay-impact-'));
	const server = await startServer({
		env: {},
		port: 0,
		host: '127.0.0.1',
		logLevel: 'silent',
		secret: 'measure-secret-measure-secret-0123456789abcdef',
		dataDir
	});
	const owner = new ApiClient(server.url);
	await owner.signup('Bench', `bench.${process.pid}@example.com`);
	const edited = (await owner.createWorkspace('edited')).id;
	const training = (await owner.createWorkspace('training')).id;
	const token = (ws: string) => owner.wsToken(ws);

	const writer = await connect(server.url, `${edited}/params`, await token(edited));
	const readers = await Promise.all(
		Array.from({ length: READERS }, async () =>
			connect(server.url, `${edited}/params`, await token(edited))
		)
	);
	let samples: number[] = [];
	for (const reader of readers) {
		const map = reader.doc.getMap<number>(schema.params.hyperparameters);
		map.observe(() => {
			const sent = map.get('bench_sent_at');
			if (sent !== undefined) samples.push(performance.now() - sent);
		});
	}

	// Training watched like in the app: one client on `live`, one on the run's document.
	const watchers: Array<{ doc: Y.Doc; provider: WebsocketProvider }> = [
		await connect(server.url, `${training}/live`, await token(training))
	];
	await owner.post(`/api/workspaces/${training}/runs`, { runner: 'builtin' }); // warm up the worker and tfjs once
	await new Promise((resolve) => setTimeout(resolve, 2000));
	if (RUNNER === 'server') {
		// The starter finishes 10,000 toy epochs in well under a phase: train.py instead
		// computes without pause until stopped, with a metric line every 50 ms.
		const code = await connect(server.url, `${training}/code`, await token(training));
		const file = code.doc.getMap<Y.Text>('files').get('train.py')!;
		code.doc.transact(() => {
			file.delete(0, file.length);
			file.insert(0, BUSY_SCRIPT);
		});
		await new Promise((resolve) => setTimeout(resolve, 300));
		code.provider.destroy();
	}

	async function phase(withRun: boolean): Promise<number[]> {
		let runId: string | null = null;
		if (withRun) {
			const hp = await connect(server.url, `${training}/params`, await token(training));
			hp.doc.getMap('hyperparameters').set('epochs', 10_000);
			await new Promise((resolve) => setTimeout(resolve, 300));
			hp.provider.destroy();
			const started = await owner.post<{ run: { id: string } }>(
				`/api/workspaces/${training}/runs`,
				{ runner: RUNNER }
			);
			runId = started.body.run.id;
			watchers.push(await connect(server.url, `${training}/run/${runId}`, await token(training)));
			await new Promise((resolve) => setTimeout(resolve, 500)); // let it reach steady training
		}
		samples = [];
		const map = writer.doc.getMap<number>(schema.params.hyperparameters);
		const until = performance.now() + PHASE_MS;
		while (performance.now() < until) {
			map.set('bench_sent_at', performance.now());
			await new Promise((resolve) => setTimeout(resolve, 1000 / EDITS_PER_S));
		}
		await new Promise((resolve) => setTimeout(resolve, 300));
		const got = samples;
		if (runId) {
			const detail = await owner.get<{ run: { status: string; summary: { epoch: number } } }>(
				`/api/workspaces/${training}/runs/${runId}`
			);
			process.stdout.write(
				`  (run was ${detail.body.run.status} at epoch ${detail.body.run.summary.epoch} when the phase ended)\n`
			);
			await owner.post(`/api/workspaces/${training}/runs/${runId}/stop`);
			watchers.pop()?.provider.destroy();
		}
		return got;
	}

	const results: Record<'without' | 'with', number[]> = { without: [], with: [] };
	for (let round = 0; round < ROUNDS; round++) {
		for (const withRun of [false, true]) {
			const got = await phase(withRun);
			const sorted = [...got].sort((a, b) => a - b);
			process.stdout.write(
				`round ${round + 1} ${withRun ? 'with a run   ' : 'without a run'}: ${got.length} deliveries, p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms\n`
			);
			results[withRun ? 'with' : 'without'].push(...got);
		}
	}
	const summary = Object.fromEntries(
		Object.entries(results).map(([k, v]) => {
			const sorted = [...v].sort((a, b) => a - b);
			return [k, { n: v.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) }];
		})
	) as Record<'without' | 'with', { n: number; p50: number; p99: number }>;
	process.stdout.write(
		`\n${READERS} readers, ${EDITS_PER_S} edits/s, runs on ${RUNNER}, ${ROUNDS}×${PHASE_MS} ms per condition\n` +
			`without a run: p50 ${summary.without.p50.toFixed(2)} ms, p99 ${summary.without.p99.toFixed(2)} ms (n=${summary.without.n})\n` +
			`with a run:    p50 ${summary.with.p50.toFixed(2)} ms, p99 ${summary.with.p99.toFixed(2)} ms (n=${summary.with.n})\n` +
			`p99 ratio: ${(summary.with.p99 / summary.without.p99).toFixed(2)}× (target ≤ 1.2×)\n`
	);

	for (const c of [writer, ...readers, ...watchers]) c.provider.destroy();
	await server.close();
	await rm(dataDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
	process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
	process.exit(1);
});
