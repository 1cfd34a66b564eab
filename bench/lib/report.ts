// Turns per-run metrics into medians with min and max, a Markdown table and the
// goals of issues 7, 8 and 18 as ratios.

import { SERVER_LABEL, type ServerKind } from '../servers/types.ts';
import { spread, type Spread } from './stats.ts';
import { TRACE_CREDIT } from './trace.ts';
import type { Machine } from './machine.ts';
import type { Metrics } from '../scenarios/types.ts';

export interface ScenarioResult {
	readonly id: string;
	readonly title: string;
	readonly servers: readonly ServerKind[];
	/** runs[server] = one Metrics per run. */
	readonly runs: Partial<Record<ServerKind, Metrics[]>>;
	readonly errors: string[];
}

export interface Summary {
	readonly id: string;
	readonly title: string;
	readonly servers: readonly ServerKind[];
	readonly metrics: Record<string, Partial<Record<ServerKind, Spread>>>;
	readonly errors: readonly string[];
}

export function summarize(result: ScenarioResult): Summary {
	const metrics: Summary['metrics'] = {};
	for (const kind of result.servers) {
		for (const run of result.runs[kind] ?? []) {
			for (const name of Object.keys(run)) metrics[name] ??= {};
		}
	}
	for (const name of Object.keys(metrics)) {
		for (const kind of result.servers) {
			const values = (result.runs[kind] ?? []).map((run) => run[name] ?? Number.NaN);
			const row = metrics[name];
			if (row && values.length) row[kind] = spread(values);
		}
	}
	return {
		id: result.id,
		title: result.title,
		servers: result.servers,
		metrics,
		errors: result.errors
	};
}

export function fmt(value: number): string {
	if (Number.isNaN(value)) return '–';
	if (!Number.isFinite(value)) return '∞';
	const abs = Math.abs(value);
	if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
	if (abs >= 100) return value.toFixed(0);
	if (abs >= 10) return value.toFixed(1);
	return value.toFixed(2);
}

function cell(s: Spread | undefined): string {
	if (!s || s.runs === 0) return '–';
	if (s.runs === 1 || s.min === s.max) return fmt(s.median);
	return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

export interface Goal {
	readonly text: string;
	readonly measured: string;
	/** measured / target, oriented so that ≥ 1 meets the goal; NaN when not measured. */
	readonly ratio: number;
}

export function markdown(
	machine: Machine,
	summaries: readonly Summary[],
	goals: readonly Goal[],
	notes: readonly string[],
	quick: boolean,
	runs: number
): string {
	const out: string[] = [];
	out.push('# Ensemble benchmark: latest results', '');
	out.push(
		`${quick ? 'Quick mode (fewer runs, smaller N: indicative only). ' : ''}Servers alternate run by run (default ${runs} runs each; each scenario says how many it had); each cell is the median (min–max) over runs.`,
		''
	);
	out.push('| machine | |', '|---|---|');
	out.push(`| CPU | ${machine.cpu}, ${machine.cores} cores |`);
	out.push(`| memory | ${machine.memoryGB} GB |`);
	out.push(`| Node | ${machine.node} |`);
	out.push(`| date | ${machine.date} |`);
	out.push(
		`| load average (1, 5, 15 min) | at start ${machine.loadAverageAtStart.join(', ')}; at end ${machine.loadAverageAtEnd.join(', ')} |`,
		''
	);
	out.push('## Goals (issues 7, 8 and 18), as ratios', '');
	out.push('| goal | measured | ratio (≥ 1 meets it) |', '|---|---|---|');
	for (const goal of goals) out.push(`| ${goal.text} | ${goal.measured} | ${fmt(goal.ratio)} |`);
	out.push('');
	for (const s of summaries) {
		out.push(`## ${s.title}`, '');
		const runs = Math.max(
			0,
			...Object.values(s.metrics).flatMap((row) => Object.values(row).map((c) => c.runs))
		);
		out.push(`Runs per server: ${runs}.`, '');
		out.push(`| metric | ${s.servers.map((k) => SERVER_LABEL[k]).join(' | ')} |`);
		out.push(`|---|${s.servers.map(() => '---').join('|')}|`);
		for (const [name, row] of Object.entries(s.metrics)) {
			out.push(`| ${name} | ${s.servers.map((k) => cell(row[k])).join(' | ')} |`);
		}
		for (const err of s.errors) out.push('', `Error: ${err}`);
		out.push('');
	}
	if (notes.length) {
		out.push('## Notes', '');
		for (const note of notes) out.push(`- ${note}`);
		out.push('');
	}
	out.push('## Credit', '', TRACE_CREDIT, '');
	return out.join('\n');
}
