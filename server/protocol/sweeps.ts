// Sweeps: a definition (parameters with ranges or lists, grid or random search,
// the metric to optimise), its configurations, and its progress read from the
// runs in `live`. The app's dialog and the server check a definition with the
// same function, and both compute progress and the best run the same way.

import { checkHyperparameter, ruleOf } from './hyperparameters.ts';
import { seededRandom } from './random.ts';
import type { Actor, RunRecord, RunStatus } from './training.ts';

/** Most configurations (runs) one sweep may hold. */
export const MAX_SWEEP_RUNS = 100;
/** Most parameters one sweep may vary. */
export const MAX_SWEEP_PARAMETERS = 10;
/** The metrics a sweep can optimise: those every run's summary keeps. */
export const SWEEP_METRICS = ['val_accuracy', 'accuracy', 'val_loss', 'loss'] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];
export const SWEEP_RUNNERS = ['server', 'agent', 'builtin', 'any'] as const;
export type SweepRunner = (typeof SWEEP_RUNNERS)[number];

export type Scalar = number | string | boolean;

/** A parameter takes either a list (`values`) or a range (`min`, `max`, …). */
export interface SweepParameter {
	readonly values?: Scalar[];
	readonly min?: number;
	readonly max?: number;
	/** `log`: values spread evenly on a log scale (min > 0). Default linear. */
	readonly scale?: 'linear' | 'log';
	/** Default: int for whole-number hyperparameters, else float. */
	readonly type?: 'int' | 'float';
	/** Grid only: how many values the range gives (default 3). */
	readonly steps?: number;
}

export interface SweepDefinition {
	readonly name?: string;
	readonly parameters: Readonly<Record<string, SweepParameter>>;
	readonly method: 'grid' | 'random';
	/** Random search: how many configurations. */
	readonly count?: number;
	/** Random search: the seed of the draw (default 0). */
	readonly seed?: number;
	readonly metric: SweepMetric;
	readonly goal: 'maximize' | 'minimize';
	readonly runner: SweepRunner;
}

export type Configuration = Record<string, Scalar>;

export type SweepCheck =
	| { readonly ok: true; readonly configurations: Configuration[] }
	| { readonly ok: false; readonly message: string };

interface SweepList {
	readonly values: Scalar[];
}
interface SweepRange extends SweepParameter {
	readonly min: number;
	readonly max: number;
}
const isList = (p: SweepParameter): p is SweepList => p.values !== undefined;

/** Rounds away float noise (0.1 + 0.2) so values read well in names and tables. */
function tidy(n: number): number {
	return Number(n.toPrecision(6));
}

function isInt(name: string, range: SweepRange): boolean {
	if (range.type) return range.type === 'int';
	const rule = ruleOf(name);
	return rule?.kind === 'number' && rule.integer;
}

function at(name: string, range: SweepRange, u: number): number {
	const v =
		range.scale === 'log'
			? Math.exp(Math.log(range.min) + u * (Math.log(range.max) - Math.log(range.min)))
			: range.min + u * (range.max - range.min);
	return isInt(name, range) ? Math.round(v) : tidy(v);
}

function gridValues(name: string, range: SweepRange): Scalar[] {
	const steps = range.steps ?? 3;
	const out: number[] = [];
	for (let i = 0; i < steps; i++) {
		const v = at(name, range, steps === 1 ? 0 : i / (steps - 1));
		if (!out.includes(v)) out.push(v);
	}
	return out;
}

function isRange(p: SweepParameter): p is SweepRange {
	return Number.isFinite(p.min) && Number.isFinite(p.max);
}

function checkParameter(name: string, p: SweepParameter): string | null {
	const refuse = (value: unknown): string | null => {
		const verdict = checkHyperparameter(name, value);
		return verdict && !verdict.ok
			? `${name}: ${JSON.stringify(value)} is refused (${verdict.message})`
			: null;
	};
	if (isList(p)) {
		if (!Array.isArray(p.values) || p.values.length === 0)
			return `${name}: give at least one value`;
		if (p.values.length > MAX_SWEEP_RUNS)
			return `${name}: at most ${MAX_SWEEP_RUNS} values (it has ${p.values.length})`;
		for (const v of p.values) {
			if (typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'boolean')
				return `${name}: values are numbers, text or true/false`;
			const problem = refuse(v);
			if (problem) return problem;
		}
		return null;
	}
	const rule = ruleOf(name);
	if (rule?.kind === 'choice') return `${name} takes one of a list of values, not a range`;
	if (!isRange(p)) return `${name}: give a list of values, or a range with min and max`;
	if (p.min > p.max) return `${name}: min (${p.min}) is above max (${p.max})`;
	if (p.scale === 'log' && p.min <= 0)
		return `${name}: a log scale needs min above 0 (it is ${p.min})`;
	if (
		p.steps !== undefined &&
		(!Number.isInteger(p.steps) || p.steps < 1 || p.steps > MAX_SWEEP_RUNS)
	)
		return `${name}: steps must be a whole number from 1 to ${MAX_SWEEP_RUNS}`;
	if (isInt(name, p) && Math.ceil(p.min) > Math.floor(p.max))
		return `${name}: no whole number lies between ${p.min} and ${p.max}`;
	return refuse(p.min) ?? refuse(p.max);
}

/**
 * Checks a definition against the workspace's hyperparameters (`known`: the keys
 * it has) and the shared rules, and lists its configurations. Messages say what
 * is wrong in words a person can act on.
 */
export function checkSweep(def: SweepDefinition, known: readonly string[]): SweepCheck {
	const fail = (message: string): SweepCheck => ({ ok: false, message });
	const names = Object.keys(def.parameters ?? {});
	if (names.length === 0) return fail('Choose at least one hyperparameter to sweep.');
	if (names.length > MAX_SWEEP_PARAMETERS)
		return fail(`A sweep varies at most ${MAX_SWEEP_PARAMETERS} hyperparameters.`);
	for (const name of names) {
		if (!known.includes(name) && !ruleOf(name)) {
			return fail(
				`Unknown parameter "${name}": the workspace's hyperparameters are ${[...known].sort().join(', ')}.`
			);
		}
		const problem = checkParameter(name, def.parameters[name]!);
		if (problem) return fail(`${problem}.`);
	}
	if (!(SWEEP_METRICS as readonly string[]).includes(def.metric))
		return fail(`The metric must be one of ${SWEEP_METRICS.join(', ')}.`);
	if (def.goal !== 'maximize' && def.goal !== 'minimize')
		return fail('The goal is maximize or minimize.');
	if (def.method === 'grid') {
		const axes = names.map((name) => {
			const p = def.parameters[name]!;
			return [name, isList(p) ? [...p.values] : gridValues(name, p as SweepRange)] as const;
		});
		const total = axes.reduce((n, [, values]) => n * values.length, 1);
		if (total > MAX_SWEEP_RUNS) {
			return fail(
				`The grid has ${total} configurations; a sweep may have at most ${MAX_SWEEP_RUNS}. Use fewer values or steps, or a random search with a count.`
			);
		}
		let configurations: Configuration[] = [{}];
		for (const [name, values] of axes) {
			configurations = configurations.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
		}
		return { ok: true, configurations };
	}
	if (def.method !== 'random') return fail('The method is grid or random.');
	const count = def.count;
	if (count === undefined || !Number.isInteger(count) || count < 1 || count > MAX_SWEEP_RUNS)
		return fail(`A random search needs a count of runs from 1 to ${MAX_SWEEP_RUNS}.`);
	const seed = def.seed ?? 0;
	if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1)
		return fail('The seed must be a whole number from 0 to 2147483647.');
	const next = seededRandom(seed);
	const configurations: Configuration[] = [];
	for (let i = 0; i < count; i++) {
		const c: Configuration = {};
		for (const name of names) {
			const p = def.parameters[name]!;
			c[name] = isList(p)
				? p.values[Math.floor(next() * p.values.length)]!
				: at(name, p as SweepRange, next());
		}
		configurations.push(c);
	}
	return { ok: true, configurations };
}

const SHORT: Record<string, string> = {
	learning_rate: 'lr',
	batch_size: 'batch',
	hidden_units: 'hidden',
	validation_split: 'val',
	optimizer: ''
};

/** "adam lr 0.02 hidden 32": a configuration in a few words, for run names. */
export function describeConfiguration(c: Configuration): string {
	return Object.entries(c)
		.map(([k, v]) => {
			const label = SHORT[k] ?? k;
			return label ? `${label} ${String(v)}` : String(v);
		})
		.join(' ');
}

/** `live.sweeps`: sweep id → this record (a plain value; the server replaces it whole). */
export interface SweepRecord {
	id: string;
	name: string;
	definition: SweepDefinition;
	total: number;
	created_by: Actor;
	created_at: number;
	state: 'running' | 'stopped';
	stopped_by: Actor | null;
	ended_at: number | null;
}

export interface SweepProgress {
	readonly total: number;
	readonly queued: number;
	readonly running: number;
	readonly completed: number;
	/** Ended otherwise: failed, stopped, interrupted (or lost and not queued again). */
	readonly failed: number;
	/** `completed` when every configuration has ended. */
	readonly state: 'running' | 'stopped' | 'completed';
	readonly best: { run: string; name: string; value: number } | null;
}

/**
 * Progress from the sweep's runs: each configuration counts once, by its newest
 * run (a lost run's configuration is queued again as a new run).
 */
export function sweepProgress(sweep: SweepRecord, runs: readonly RunRecord[]): SweepProgress {
	const latest = new Map<number, RunRecord>();
	for (const run of runs) {
		if (run.sweep !== sweep.id || typeof run.sweep_index !== 'number') continue;
		const seen = latest.get(run.sweep_index);
		if (!seen || run.created_at > seen.created_at) latest.set(run.sweep_index, run);
	}
	const count = (statuses: RunStatus[]) =>
		[...latest.values()].filter((r) => statuses.includes(r.status)).length;
	const queued = count(['queued']);
	const running = count(['running']);
	const completed = count(['completed']);
	const failed = count(['failed', 'stopped', 'interrupted', 'lost']);
	let best: SweepProgress['best'] = null;
	const sign = sweep.definition.goal === 'maximize' ? 1 : -1;
	for (const run of runs) {
		if (run.sweep !== sweep.id || run.status !== 'completed') continue;
		const value = run.summary[sweep.definition.metric];
		if (typeof value !== 'number' || !Number.isFinite(value)) continue;
		if (!best || sign * (value - best.value) > 0) best = { run: run.id, name: run.name, value };
	}
	const ended = completed + failed === sweep.total;
	return {
		total: sweep.total,
		queued,
		running,
		completed,
		failed,
		state: sweep.state === 'stopped' ? 'stopped' : ended ? 'completed' : 'running',
		best
	};
}
