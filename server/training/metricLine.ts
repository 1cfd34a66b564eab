// The script protocol, as `ensemble_client.py run` reads it: every line a script
// prints that is a JSON object with numbers is a metric point (`step`, else
// `epoch`, else a counter, is the x axis; `"kind": "batch"` marks batch points);
// every other line is log. Like the client, a flat Python dict literal counts too.

import type { MetricPoint } from '../protocol/training.ts';

const RESERVED = new Set(['step', 'epoch', 'kind', 'elapsed_ms']);
const MAX_METRICS = 50;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A metric point from one line of output, or null when the line is log. */
export function parseMetricLine(
	line: string,
	counter: number,
	elapsedMs: number
): MetricPoint | null {
	const text = line.trim();
	if (!text.startsWith('{') || !text.endsWith('}')) return null;
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		value = pythonDict(text);
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
	const record = value as Record<string, unknown>;
	const values: Record<string, number> = {};
	for (const [k, v] of Object.entries(record)) {
		if (RESERVED.has(k) || !isNumber(v) || k.length === 0 || k.length > 64) continue;
		if (Object.keys(values).length >= MAX_METRICS) break;
		values[k] = v;
	}
	if (Object.keys(values).length === 0) return null;
	const step = isNumber(record.step)
		? record.step
		: isNumber(record.epoch)
			? record.epoch
			: counter;
	return {
		kind: record.kind === 'batch' ? 'batch' : 'epoch',
		step: Math.trunc(step),
		epoch: isNumber(record.epoch) ? record.epoch : step,
		elapsed_ms: isNumber(record.elapsed_ms) ? record.elapsed_ms : elapsedMs,
		values
	};
}

/** A flat Python dict literal of numbers (what `print({"loss": 0.4})` prints), else null. */
function pythonDict(text: string): unknown {
	if (!/^\{[\s\w'.,:+-]*\}$/.test(text)) return null;
	try {
		return JSON.parse(text.replaceAll("'", '"').replace(/\b(True|False|None)\b/g, 'null'));
	} catch {
		return null;
	}
}
