// `npm run bench [-- --quick] [--runs=N] [--only=replay,fanout] [--servers=ensemble,hocuspocus] [--profile]`
// Runs every scenario against Ensemble, the stock y-websocket server and
// Hocuspocus, alternating servers run by run, and writes bench/results/latest.{json,md}.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { machine, type Machine } from './lib/machine.ts';
import { markdown, summarize, type ScenarioResult } from './lib/report.ts';
import { goals } from './lib/goals.ts';
import { SCENARIOS } from './scenarios/index.ts';
import { warmCompileCache } from './lib/proc.ts';
import { SERVER_KINDS, type ServerKind } from './servers/types.ts';
import type { BenchConfig } from './scenarios/types.ts';

const RESULTS = join(import.meta.dirname, 'results');

function arg(name: string): string | null {
	const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
	return hit ? hit.slice(name.length + 3) : null;
}

const quick = process.argv.includes('--quick');
const only = arg('only')?.split(',') ?? null;
const servers = (arg('servers')?.split(',') ?? SERVER_KINDS).filter((k): k is ServerKind =>
	(SERVER_KINDS as readonly string[]).includes(k)
);
const config: BenchConfig = {
	quick,
	runs: Number(arg('runs') ?? (quick ? 1 : 5)),
	servers,
	cpuProfDir: process.argv.includes('--profile') ? join(RESULTS, 'profiles') : null
};
if (config.cpuProfDir) mkdirSync(config.cpuProfDir, { recursive: true });

/** Writes latest.{json,md}; called after every scenario so an interrupted run keeps what it measured. */
async function writeResults(): Promise<string> {
	if (!rewrite) info.loadAverageAtEnd = loadavg().map((v) => Math.round(v * 100) / 100);

	const summaries = results.map(summarize);
	const goalRows = goals(summaries);
	const notesFile = join(import.meta.dirname, 'notes.md');
	const notes = existsSync(notesFile)
		? readFileSync(notesFile, 'utf8')
				.split('\n')
				.filter((l) => l.startsWith('- '))
				.map((l) => l.slice(2))
		: [];
	const md = markdown(info, summaries, goalRows, notes, config.quick, config.runs);
	mkdirSync(RESULTS, { recursive: true });
	/** Written as the repository's Prettier would format it, so `npm run check` stays clean. */
	async function save(name: string, text: string): Promise<void> {
		const filepath = join(RESULTS, name);
		const options = (await resolveConfig(filepath)) ?? {};
		writeFileSync(filepath, await format(text, { ...options, filepath }));
	}
	await save(
		'latest.json',
		JSON.stringify(
			{ machine: info, config, results, summaries, goals: goalRows },
			// A delivery that never came is ∞; JSON has no Infinity.
			(_key, value: unknown) => (value === Number.POSITIVE_INFINITY ? 'Infinity' : value),
			1
		) + '\n'
	);
	await save('latest.md', md);
	return md;
}

// `--rewrite`: render latest.md again from latest.json (after editing bench/notes.md).
// `--merge`: keep latest.json's other scenarios and replace the ones run now.
const rewrite = process.argv.includes('--rewrite');
const merge = process.argv.includes('--merge');
const previous =
	rewrite || merge
		? (JSON.parse(readFileSync(join(RESULTS, 'latest.json'), 'utf8'), (_key, value: unknown) =>
				value === 'Infinity' ? Number.POSITIVE_INFINITY : value
			) as { machine: Machine; config: BenchConfig; results: ScenarioResult[] })
		: null;
const info = rewrite && previous ? previous.machine : machine();
const started = performance.now();
const results: ScenarioResult[] = [];
if (previous) {
	results.push(...previous.results);
	if (rewrite) Object.assign(config, { quick: previous.config.quick, runs: previous.config.runs });
}
if (!rewrite) await warmCompileCache(servers);
for (const scenario of SCENARIOS) {
	if (rewrite) break;
	if (only && !only.includes(scenario.id)) continue;
	const replaced = results.findIndex((r) => r.id === scenario.id);
	const kinds = scenario.servers.filter((k) => servers.includes(k));
	const result: ScenarioResult = {
		id: scenario.id,
		title: scenario.title,
		servers: kinds,
		runs: {},
		errors: []
	};
	if (replaced >= 0) results.splice(replaced, 1, result);
	else results.push(result);
	for (let run = 1; run <= config.runs; run++) {
		for (const kind of kinds) {
			const t0 = performance.now();
			try {
				const metrics = await scenario.run(kind, config);
				(result.runs[kind] ??= []).push(metrics);
			} catch (err) {
				const message = `${kind} run ${run}: ${err instanceof Error ? err.message : String(err)}`;
				result.errors.push(message);
				process.stderr.write(`bench ${scenario.id}: ${message}\n`);
			}
			process.stdout.write(
				`bench ${scenario.id} run ${run}/${config.runs} ${kind}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`
			);
		}
	}
	await writeResults();
}
const md = await writeResults();
process.stdout.write(
	`\n${md}\nbench: done in ${((performance.now() - started) / 1000).toFixed(0)} s\n`
);
// Clients and servers are children that have exited; nothing should keep us, but be sure.
process.exit(0);
