// The runs table's logic, free of Svelte: its columns (fixed ones, one per
// hyperparameter, the final and best value of each metric), sorting, the filter
// language (`val_accuracy > 0.9 and optimizer = adam`) and the shared selection.

import * as Y from 'yjs';
import { schema } from '$shared/docs.ts';
import { lowerIsBetter, type RunRecord } from '$shared/training.ts';

export type Cell = number | string | null;

export interface Column {
	/** Unique and stable: `name`, `param:lr`, `final:loss`, `best:loss`… */
	readonly key: string;
	/** What the filter calls it (`started_by`, `learning_rate`, `best_val_loss`). */
	readonly label: string;
	/** What the header says: words for the run's own columns, the name for the rest. */
	readonly heading: string;
	readonly group: 'run' | 'param' | 'final' | 'best';
	readonly numeric: boolean;
	readonly value: (run: RunRecord) => Cell;
}

const KNOWN_METRICS = ['loss', 'val_loss', 'accuracy', 'val_accuracy'] as const;

/** A run's final value of a metric: its newest epoch point, else the summary's field. */
export function finalMetric(run: RunRecord, metric: string): number | null {
	const last = run.summary.last?.[metric];
	if (last !== undefined) return last;
	const known = (KNOWN_METRICS as readonly string[]).includes(metric)
		? run.summary[metric as (typeof KNOWN_METRICS)[number]]
		: null;
	return typeof known === 'number' ? known : null;
}

export function bestMetric(run: RunRecord, metric: string): number | null {
	return run.summary.best?.[metric] ?? null;
}

/** ms the run took (or has taken so far), null before it started. */
export function duration(run: RunRecord, now: number): number | null {
	const start = run.started_at;
	if (start === null) return null;
	return Math.max(0, (run.ended_at ?? now) - start);
}

/** A short, stable name for the code a run ran: runs with the same files share it. */
export function codeVersion(code: Readonly<Record<string, string>>): string {
	let version = versions.get(code);
	if (version === undefined) versions.set(code, (version = hashCode(code)));
	return version;
}

/** A run's code object is read once from the live document: its hash is kept with it. */
const versions = new WeakMap<object, string>();

function hashCode(code: Readonly<Record<string, string>>): string {
	const names = Object.keys(code).sort();
	if (names.length === 0) return '';
	// FNV-1a over the file names and texts.
	let h = 0x811c9dc5;
	for (const name of names) {
		for (const s of [name, '\u0000', code[name] ?? '', '\u0000']) {
			for (let i = 0; i < s.length; i++) {
				h ^= s.charCodeAt(i);
				h = Math.imul(h, 0x01000193);
			}
		}
	}
	return (h >>> 0).toString(16).padStart(8, '0').slice(0, 7);
}

/** Every metric the runs report in their summaries, the usual four first. */
export function runMetrics(runs: readonly RunRecord[]): string[] {
	const names = new Set<string>();
	for (const r of runs) {
		for (const m of KNOWN_METRICS) if (typeof r.summary[m] === 'number') names.add(m);
		for (const m in r.summary.last ?? {}) names.add(m);
		for (const m in r.summary.best ?? {}) names.add(m);
	}
	const own = [...names].filter((n) => !(KNOWN_METRICS as readonly string[]).includes(n)).sort();
	return [...KNOWN_METRICS.filter((n) => names.has(n)), ...own];
}

/** Hyperparameter names across the runs, sorted. */
export function paramNames(runs: readonly RunRecord[]): string[] {
	const names = new Set<string>();
	for (const r of runs) for (const k in r.params) names.add(k);
	return [...names].sort();
}

/** The hyperparameters (and whether each is numeric) and metrics the runs have. */
interface Found {
	readonly params: ReadonlyArray<{ readonly name: string; readonly numeric: boolean }>;
	readonly metrics: readonly string[];
}

/**
 * Found once per runs array: the live runs are one array until a run changes
 * (LiveTraining), and the table is made again on every visit to the Dashboard,
 * which read each of a thousand runs three times to find its columns.
 */
const found = new WeakMap<readonly RunRecord[], Found>();

function columnsOf(runs: readonly RunRecord[]): Found {
	let cached = found.get(runs);
	if (!cached) {
		const params = paramNames(runs).map((name) => ({
			name,
			numeric: runs.every((r) => r.params[name] === undefined || typeof r.params[name] === 'number')
		}));
		cached = { params, metrics: runMetrics(runs) };
		found.set(runs, cached);
	}
	return cached;
}

export function tableColumns(runs: readonly RunRecord[], now: number): Column[] {
	const { params: paramColumns, metrics } = columnsOf(runs);
	const fixed: Column[] = [
		{
			key: 'name',
			label: 'name',
			heading: 'Name',
			group: 'run',
			numeric: false,
			value: (r) => r.name
		},
		{
			key: 'status',
			label: 'status',
			heading: 'Status',
			group: 'run',
			numeric: false,
			value: (r) => r.status
		},
		{
			key: 'started_by',
			label: 'started_by',
			heading: 'Started by',
			group: 'run',
			numeric: false,
			value: (r) => r.started_by.name
		},
		{
			key: 'created_at',
			label: 'started',
			heading: 'Started',
			group: 'run',
			numeric: true,
			value: (r) => r.created_at
		},
		{
			key: 'duration',
			label: 'duration',
			heading: 'Duration',
			group: 'run',
			numeric: true,
			value: (r) => {
				const d = duration(r, now);
				return d === null ? null : d / 1000;
			}
		}
	];
	const params: Column[] = paramColumns.map(({ name: p, numeric }) => ({
		key: `param:${p}`,
		label: p,
		heading: p,
		group: 'param',
		numeric,
		value: (r) => {
			const v = r.params[p];
			return v === undefined ? null : typeof v === 'number' ? v : String(v);
		}
	}));
	const finals: Column[] = metrics.map((m) => ({
		key: `final:${m}`,
		label: m,
		heading: m,
		group: 'final',
		numeric: true,
		value: (r) => finalMetric(r, m)
	}));
	const bests: Column[] = metrics.map((m) => ({
		key: `best:${m}`,
		label: `best_${m}`,
		heading: `best ${m}`,
		group: 'best',
		numeric: true,
		value: (r) => bestMetric(r, m)
	}));
	const tail: Column[] = [
		{
			key: 'dataset',
			label: 'dataset',
			heading: 'Data set',
			group: 'run',
			numeric: false,
			value: (r) => r.dataset?.name ?? 'iris'
		},
		{
			key: 'code',
			label: 'code',
			heading: 'Code',
			group: 'run',
			numeric: false,
			value: (r) => codeVersion(r.code) || null
		}
	];
	return [...fixed, ...params, ...finals, ...bests, ...tail];
}

export type SortDir = 'asc' | 'desc';

/** Sorted by one column; runs without a value go last either way, ties keep newest first. */
export function sortRuns(
	runs: readonly RunRecord[],
	column: Column | undefined,
	dir: SortDir
): RunRecord[] {
	if (!column) return [...runs];
	const sign = dir === 'asc' ? 1 : -1;
	const keyed = runs.map((run, i) => ({ run, i, v: column.value(run) }));
	keyed.sort((a, b) => {
		if (a.v === null || b.v === null) {
			if (a.v === b.v) return a.i - b.i;
			return a.v === null ? 1 : -1;
		}
		const c =
			typeof a.v === 'number' && typeof b.v === 'number'
				? a.v - b.v
				: String(a.v).localeCompare(String(b.v), undefined, { numeric: true });
		return c === 0 ? a.i - b.i : sign * c;
	});
	return keyed.map((k) => k.run);
}

// ---- The filter language ------------------------------------------------------
// filter  := clause ( "and" clause )*
// clause  := column op value
// op      := = | != | > | >= | < | <= | ~ (contains)
// value   := number | word | "quoted text"
// Columns by their header (`val_accuracy`, `best_val_loss`, `optimizer`, `status`…).

type Op = '>=' | '<=' | '!=' | '==' | '=' | '>' | '<' | '~';

interface Clause {
	readonly column: Column;
	readonly op: Op;
	readonly text: string;
	readonly number: number | null;
}

export type Filter =
	| { readonly ok: true; readonly test: (run: RunRecord) => boolean }
	| { readonly ok: false; readonly error: string };

interface Token {
	readonly kind: 'op' | 'word' | 'quoted';
	readonly text: string;
	readonly at: number;
}

function tokenize(input: string): Token[] | string {
	const out: Token[] = [];
	const re = /\s*(?:(>=|<=|!=|==|=|>|<|~)|"([^"]*)"|'([^']*)'|([^\s=<>!~"']+))/y;
	let i = 0;
	while (i < input.length) {
		if (/^\s*$/.test(input.slice(i))) break;
		re.lastIndex = i;
		const m = re.exec(input);
		if (!m) {
			const rest = input.slice(i).trim();
			return rest.startsWith('"') || rest.startsWith("'")
				? 'A quoted value is missing its closing quote.'
				: `Cannot read “${rest.slice(0, 12)}”.`;
		}
		const at = m.index + m[0].length - m[0].trimStart().length;
		if (m[1] !== undefined) out.push({ kind: 'op', text: m[1], at });
		else if (m[2] !== undefined || m[3] !== undefined)
			out.push({ kind: 'quoted', text: m[2] ?? m[3] ?? '', at });
		else out.push({ kind: 'word', text: m[4] ?? '', at });
		i = re.lastIndex;
	}
	return out;
}

function findColumn(columns: readonly Column[], name: string): Column | undefined {
	const lower = name.toLowerCase();
	return (
		columns.find((c) => c.label === name) ?? columns.find((c) => c.label.toLowerCase() === lower)
	);
}

/** Parses a filter; an empty one keeps every run. Never throws: errors say what is wrong. */
export function parseFilter(input: string, columns: readonly Column[]): Filter {
	const tokens = tokenize(input);
	if (typeof tokens === 'string') return { ok: false, error: tokens };
	if (tokens.length === 0) return { ok: true, test: () => true };
	const clauses: Clause[] = [];
	let i = 0;
	for (;;) {
		const name = tokens[i];
		const op = tokens[i + 1];
		const value = tokens[i + 2];
		if (!name || name.kind !== 'word')
			return { ok: false, error: 'Expected a column name, e.g. val_accuracy > 0.9.' };
		const column = findColumn(columns, name.text);
		if (!column) {
			const known = columns.map((c) => c.label).slice(0, 12);
			return {
				ok: false,
				error: `No column “${name.text}”. Columns: ${known.join(', ')}${columns.length > known.length ? '…' : ''}.`
			};
		}
		if (!op || op.kind !== 'op')
			return {
				ok: false,
				error: `Expected an operator after “${name.text}” (=, !=, >, >=, <, <=, ~).`
			};
		if (!value || value.kind === 'op')
			return { ok: false, error: `Expected a value after “${name.text} ${op.text}”.` };
		const n = value.kind === 'word' && value.text.trim() !== '' ? Number(value.text) : NaN;
		const number = Number.isFinite(n) ? n : null;
		const o = op.text as Op;
		if ((o === '>' || o === '>=' || o === '<' || o === '<=') && number === null)
			return { ok: false, error: `“${name.text} ${o}” needs a number, not “${value.text}”.` };
		clauses.push({ column, op: o, text: value.text, number });
		i += 3;
		const next = tokens[i];
		if (!next) break;
		if (next.kind !== 'word' || next.text.toLowerCase() !== 'and')
			return { ok: false, error: `Expected “and” before “${next.text}”.` };
		i += 1;
		if (!tokens[i]) return { ok: false, error: 'Expected a condition after “and”.' };
	}
	return { ok: true, test: (run) => clauses.every((c) => matches(c, c.column.value(run))) };
}

function matches(c: Clause, v: Cell): boolean {
	if (v === null) return c.op === '!=';
	switch (c.op) {
		case '>':
			return typeof v === 'number' && v > (c.number as number);
		case '>=':
			return typeof v === 'number' && v >= (c.number as number);
		case '<':
			return typeof v === 'number' && v < (c.number as number);
		case '<=':
			return typeof v === 'number' && v <= (c.number as number);
		case '~':
			return String(v).toLowerCase().includes(c.text.toLowerCase());
		case '!=':
			return !equal(v, c);
		default:
			return equal(v, c);
	}
}

function equal(v: number | string, c: Clause): boolean {
	if (typeof v === 'number') return c.number !== null && v === c.number;
	return v.toLowerCase() === c.text.toLowerCase();
}

// ---- The shared table state (params document, `runs_table` map) ------------------
// `pick:{runId}` → true for each run picked to compare (keys merge when two people
// pick at once); `metric` → the metric the parallel-coordinates chart ends on;
// `param` → the scatter's hyperparameter.

export const PICK = 'pick:';

export function tableState(params: Y.Doc): Y.Map<unknown> {
	return params.getMap<unknown>(schema.params.runs_table);
}

export function pickedIds(state: Y.Map<unknown>): string[] {
	const out: string[] = [];
	for (const [k, v] of state.entries()) if (k.startsWith(PICK) && v === true) out.push(k.slice(5));
	return out;
}

export function setPicked(state: Y.Map<unknown>, runId: string, on: boolean): void {
	if (on) state.set(PICK + runId, true);
	else state.delete(PICK + runId);
}

/** The metric to compare by: the chosen one if any run has it, else val_accuracy, else the first. */
export function chosenMetric(metrics: readonly string[], chosen: unknown): string | null {
	if (typeof chosen === 'string' && metrics.includes(chosen)) return chosen;
	for (const m of ['val_accuracy', 'accuracy', 'val_loss', 'loss'])
		if (metrics.includes(m)) return m;
	return metrics[0] ?? null;
}

// ---- Chart geometry (parallel coordinates and scatter) ------------------------------

export interface Axis {
	readonly label: string;
	/** Where a value sits on the axis, 0 (bottom) to 1 (top); null when the run has none. */
	readonly place: (v: Cell) => number | null;
	/** Tick labels with their places. */
	readonly ticks: ReadonlyArray<{ readonly at: number; readonly text: string }>;
}

const short = (n: number) =>
	Math.abs(n) >= 1000 || (n !== 0 && Math.abs(n) < 0.001)
		? n.toExponential(1)
		: String(+n.toPrecision(3));

/** An axis over the values the runs have: numbers linear (log when they span ≥ 2 decades), else categories. */
export function makeAxis(label: string, values: readonly Cell[]): Axis {
	const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
	const present = values.filter((v) => v !== null);
	if (present.length > 0 && nums.length === present.length) {
		let lo = Math.min(...nums);
		let hi = Math.max(...nums);
		const log = lo > 0 && hi / lo >= 100;
		const f = log ? Math.log10 : (x: number) => x;
		if (lo === hi) {
			lo = lo - (Math.abs(lo) || 1) * 0.5;
			hi = hi + (Math.abs(hi) || 1) * 0.5;
		}
		const a = f(lo);
		const span = f(hi) - a || 1;
		const place = (v: Cell) =>
			typeof v === 'number' && Number.isFinite(v) ? (f(v) - a) / span : null;
		const ticks = [lo, log ? 10 ** (a + span / 2) : (lo + hi) / 2, hi].map((t) => ({
			at: place(t) ?? 0,
			text: short(t)
		}));
		return { label, place, ticks };
	}
	const cats = [...new Set(present.map(String))].sort((x, y) =>
		x.localeCompare(y, undefined, { numeric: true })
	);
	const at = (i: number) => (cats.length === 1 ? 0.5 : i / (cats.length - 1));
	return {
		label,
		place: (v) => {
			if (v === null) return null;
			const i = cats.indexOf(String(v));
			return i < 0 ? null : at(i);
		},
		ticks: cats.map((c, i) => ({ at: at(i), text: c }))
	};
}

export interface ParallelLine {
	readonly run: string;
	/** One place per axis (null: the run has no value there). */
	readonly ys: ReadonlyArray<number | null>;
}

/**
 * Parallel coordinates: one axis per hyperparameter that differs among the runs
 * (every one when none differ), then the metric's final value.
 */
export function parallelData(
	runs: readonly RunRecord[],
	metric: string | null
): { axes: Axis[]; lines: ParallelLine[] } {
	const all = paramNames(runs);
	const varying = all.filter(
		(p) => new Set(runs.map((r) => JSON.stringify(r.params[p] ?? null))).size > 1
	);
	const params = varying.length > 0 ? varying : all;
	const getters: Array<{ label: string; get: (r: RunRecord) => Cell }> = params.map((p) => ({
		label: p,
		get: (r) => {
			const v = r.params[p];
			return v === undefined ? null : typeof v === 'number' ? v : String(v);
		}
	}));
	if (metric) getters.push({ label: metric, get: (r) => finalMetric(r, metric) });
	const axes = getters.map((g) => makeAxis(g.label, runs.map(g.get)));
	const lines = runs.map((r) => ({
		run: r.id,
		ys: getters.map((g, i) => axes[i]?.place(g.get(r)) ?? null)
	}));
	return { axes, lines };
}

/** The run with the best final value of `metric`. */
export function bestRun(runs: readonly RunRecord[], metric: string | null): RunRecord | null {
	if (!metric) return null;
	const low = lowerIsBetter(metric);
	let best: RunRecord | null = null;
	let bestValue = 0;
	for (const r of runs) {
		const v = finalMetric(r, metric);
		if (v === null) continue;
		if (best === null || (low ? v < bestValue : v > bestValue)) {
			best = r;
			bestValue = v;
		}
	}
	return best;
}
