// The goals of issues 7, 8 and 18, reported as ratios (≥ 1 meets the goal).

import type { ServerKind } from '../servers/types.ts';
import type { Goal, Summary } from './report.ts';
import { fmt } from './report.ts';

function median(
	summaries: readonly Summary[],
	id: string,
	metric: string,
	kind: ServerKind
): number {
	return summaries.find((s) => s.id === id)?.metrics[metric]?.[kind]?.median ?? Number.NaN;
}

export function goals(summaries: readonly Summary[]): Goal[] {
	const rows: Goal[] = [];
	const readers = (k: ServerKind): number =>
		median(summaries, 'fanout', 'largest N with p99 ≤ 50 ms', k);
	const e = readers('ensemble');
	rows.push({
		text: 'fan-out: ≥ 2× the stock server’s readers at p99 ≤ 50 ms',
		measured: `${fmt(e)} vs ${fmt(readers('ywebsocket'))}`,
		ratio: e / readers('ywebsocket') / 2
	});
	rows.push({
		text: 'fan-out: ≥ 3× Hocuspocus’s readers at p99 ≤ 50 ms',
		measured: `${fmt(e)} vs ${fmt(readers('hocuspocus'))}`,
		ratio: e / readers('hocuspocus') / 3
	});
	rows.push({
		text: 'fan-out: most readers at p99 ≤ 50 ms ≥ 500 (issue 18)',
		measured: fmt(e),
		ratio: e / 500
	});
	const perEdit = median(
		summaries,
		'fanout',
		'N=500: server CPU µs per delivered edit',
		'ensemble'
	);
	rows.push({
		text: 'fan-out: server CPU per delivered edit at N = 500 ≤ 8 µs (issue 18)',
		measured: `${fmt(perEdit)} µs`,
		ratio: 8 / perEdit
	});
	const rooms = median(summaries, 'rooms', 'most rooms with p99 ≤ 100 ms', 'ensemble');
	rows.push({
		text: 'many rooms: most rooms at p99 ≤ 100 ms ≥ 300 (issue 18)',
		measured: fmt(rooms),
		ratio: rooms / 300
	});
	for (const trace of ['sveltecomponent', 'automerge-paper']) {
		const metric = `${trace} max rate: server CPU µs/op`;
		const own = median(summaries, 'replay', metric, 'ensemble');
		const peer = Math.min(
			median(summaries, 'replay', metric, 'ywebsocket'),
			median(summaries, 'replay', metric, 'hocuspocus')
		);
		rows.push({
			text: `replay ${trace}: server CPU per update at max rate ≤ 2× the better peer (issue 18)`,
			measured: `${fmt(own)} vs ${fmt(peer)} µs (${fmt(own / peer)}×)`,
			ratio: (2 * peer) / own
		});
	}
	const idle = median(summaries, 'memory', 'idle server RSS after start MB', 'ensemble');
	rows.push({
		text: 'idle server RSS after start ≤ 120 MiB (issue 18)',
		measured: `${fmt(idle)} MiB`,
		ratio: 120 / idle
	});
	const cold = median(summaries, 'coldload', 'connect → synced ms', 'ensemble');
	const floor = median(summaries, 'coldload', 'in-process floor (decode + encode) ms', 'ensemble');
	rows.push({
		text: 'cold load ≤ 1.5× the in-process floor',
		measured: `${fmt(cold)} ms vs floor ${fmt(floor)} ms (${fmt(cold / floor)}×)`,
		ratio: (1.5 * floor) / cold
	});
	const iso = median(summaries, 'isolation', 'probe p99 loaded / unloaded', 'ensemble');
	rows.push({
		text: 'isolation: probe p99 under load ≤ 2× unloaded',
		measured: `${fmt(iso)}×`,
		ratio: 2 / iso
	});
	const ack = median(summaries, 'durability', '5000/s offered: saved-ack p95 ms', 'ensemble');
	const rate = median(summaries, 'durability', '5000/s offered: durable updates/s', 'ensemble');
	rows.push({
		text: 'durability: saved-ack p95 ≤ 20 ms at 5,000 updates/s',
		measured: `p95 ${fmt(ack)} ms at ${fmt(rate)} durable updates/s`,
		ratio: Math.min(20 / ack, rate / 5000)
	});
	const same = median(summaries, 'scaleout', 'same-process delivery p99 ms', 'ensemble');
	const cross = median(summaries, 'scaleout', 'cross-process delivery p99 ms', 'ensemble');
	rows.push({
		text: 'scale-out: cross-process delivery p99 ≤ same-process + 5 ms',
		measured: `${fmt(cross)} ms vs ${fmt(same)} ms`,
		ratio: (same + 5) / cross
	});
	const conn = median(summaries, 'memory', 'per idle connection KB', 'ensemble');
	rows.push({
		text: 'memory per idle connection ≤ 20 KB',
		measured: `${fmt(conn)} KB`,
		ratio: 20 / conn
	});
	const doc = median(summaries, 'memory', 'per idle loaded document beyond content KB', 'ensemble');
	rows.push({
		text: 'memory per idle loaded document beyond its content ≤ 50 KB',
		measured: `${fmt(doc)} KB`,
		ratio: 50 / doc
	});
	return rows;
}
