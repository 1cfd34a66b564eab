// Scenario 1: one writer replays a trace to one reader through the server. Each
// operation's transaction also sets `meta.s = [seq, sendTime]`, so the send time
// travels inside the message; the reader stamps the arrival. After the measured
// part, the rest of the trace goes in one transaction and the reader's text must
// equal the trace's endContent.

import { connect } from '../lib/clients.ts';
import { applyPatches, loadTrace } from '../lib/trace.ts';
import { nowMs } from '../lib/stats.ts';
import type { ReplayJob, ReplayResult } from './jobs.ts';
import { cpuUs, mark, sleep, waitFor } from './marks.ts';
import { scratchMap, scratchText } from '../../tests/helpers/schemaRoots.ts';

export async function replay(job: ReplayJob): Promise<ReplayResult> {
	const trace = loadTrace(job.trace);
	const writer = connect(job.ref);
	const reader = connect(job.ref);
	await Promise.all([writer.synced, reader.synced]);
	const wText = scratchText(writer.doc);
	const wMeta = scratchMap<[number, number]>(writer.doc);
	const rText = scratchText(reader.doc);
	const rMeta = scratchMap<[number, number]>(reader.doc);
	if (trace.startContent) wText.insert(0, trace.startContent);

	const sendTimes: number[] = [];
	const samples: number[] = [];
	let delivered = 0;
	let onDelivered: (() => void) | null = null;
	rMeta.observe(() => {
		const value = rMeta.get('s');
		if (!value) return;
		const [seq, sentAt] = value;
		const now = nowMs();
		// A server may merge several updates into one message: everything up to seq arrived now.
		for (let i = delivered + 1; i < seq; i++) samples.push(now - (sendTimes[i] ?? now));
		if (seq > delivered) {
			samples.push(now - sentAt);
			delivered = seq;
		}
		onDelivered?.();
	});
	const send = (index: number): void => {
		const txn = trace.txns[index];
		if (!txn) return;
		const seq = index + 1;
		const at = nowMs();
		sendTimes[seq] = at;
		writer.doc.transact(() => {
			applyPatches(wText, txn.patches);
			wMeta.set('s', [seq, at]);
		});
	};

	await mark('ready');
	const limit = Math.min(job.maxOps, trace.txns.length);
	const cpu0 = cpuUs();
	const t0 = performance.now();
	let sent = 0;
	if (job.rate === null) {
		const bucket = job.bucket;
		let tokens = bucket?.burst ?? Number.POSITIVE_INFINITY;
		let last = performance.now();
		while (sent < limit && performance.now() - t0 < job.maxMs) {
			if (bucket) {
				const now = performance.now();
				tokens = Math.min(bucket.burst, tokens + ((now - last) * bucket.rate) / 1000);
				last = now;
			}
			while (sent < limit && sent - delivered < job.window && tokens >= 1) {
				send(sent++);
				tokens--;
			}
			if (tokens < 1) await sleep(5);
			else if (sent - delivered >= job.window) {
				await new Promise<void>((resolve) => {
					onDelivered = resolve;
				});
			}
		}
	} else {
		const rate = job.rate;
		while (sent < limit && performance.now() - t0 < job.maxMs) {
			const due = Math.min(limit, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
			while (sent < due) send(sent++);
			await sleep(Math.max(1, Math.min(10, 1000 / rate)));
		}
	}
	await waitFor(() => delivered >= sent, 30_000, `delivery of ${sent} operations`);
	const elapsedMs = performance.now() - t0;
	const clientCpuUs = cpuUs() - cpu0;
	await mark('measured', { ops: sent });

	// The rest in one transaction: the final text still has to be exactly endContent.
	writer.doc.transact(() => {
		for (let i = sent; i < trace.txns.length; i++)
			applyPatches(wText, trace.txns[i]?.patches ?? []);
	});
	await waitFor(() => rText.length === trace.endContent.length, 60_000, 'the final text').catch(
		() => undefined // the comparison below reports it
	);
	const textOk = rText.toJSON() === trace.endContent;
	writer.destroy();
	reader.destroy();
	return { ops: sent, elapsedMs, samples, textOk, finalLength: rText.length, clientCpuUs };
}
