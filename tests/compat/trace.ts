// Replays a concurrent editing trace (josephg/editing-traces, `kind: concurrent`)
// through OT clients: each client follows its own agent's transactions and, before
// making one, has applied exactly the other agent's transactions that it knew of
// (its `parents`), holding back later ones as a slow network would.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { OtTextClient } from '../../server/compat/client.ts';
import type { Operation } from '../../server/compat/ot.ts';

interface RawTxn {
	readonly agent: number;
	readonly parents: readonly number[];
	readonly patches: readonly (readonly [number, number, string])[];
}

export interface Trace {
	readonly endContent: string;
	/** Per agent, its transactions in order. */
	readonly byAgent: readonly TraceTxn[][];
	readonly txnCount: number;
}

export interface TraceTxn {
	readonly ops: Operation[];
	/** How many transactions of each agent this one was made after (its version). */
	readonly version: readonly number[];
}

export const FRIENDSFOREVER = '/work/shared/traces/friendsforever.json.gz';

export function loadConcurrentTrace(path: string): Trace {
	const raw = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as {
		endContent: string;
		numAgents: number;
		txns: RawTxn[];
	};
	const agents = raw.numAgents;
	const versions: number[][] = [];
	const seqOf: number[] = [];
	const counts = new Array<number>(agents).fill(0);
	const byAgent: TraceTxn[][] = Array.from({ length: agents }, () => []);
	raw.txns.forEach((t, i) => {
		const v = new Array<number>(agents).fill(0);
		for (const p of t.parents) {
			const pv = versions[p];
			const pt = raw.txns[p];
			if (!pv || !pt) throw new Error(`txn ${i}: parent ${p} comes later`);
			for (let a = 0; a < agents; a++) v[a] = Math.max(v[a] ?? 0, pv[a] ?? 0);
			v[pt.agent] = Math.max(v[pt.agent] ?? 0, (seqOf[p] ?? 0) + 1);
		}
		const seq = counts[t.agent] ?? 0;
		if (v[t.agent] !== seq) throw new Error(`txn ${i}: agent ${t.agent} did not see its own edits`);
		counts[t.agent] = seq + 1;
		seqOf[i] = seq;
		versions[i] = v;
		const ops: Operation[] = [];
		for (const [position, length, data] of t.patches) {
			if (length > 0) ops.push({ type: 'delete', position, length });
			if (data.length > 0) ops.push({ type: 'insert', position, data });
		}
		byAgent[t.agent]?.push({ ops, version: v });
	});
	return { endContent: raw.endContent, byAgent, txnCount: raw.txns.length };
}

export type ServerTextMessage =
	| { readonly kind: 'ack'; readonly revision: number }
	| {
			readonly kind: 'op';
			readonly ops: readonly Operation[];
			readonly author: number;
			readonly revision: number;
	  };

/** Drives one OT client through one agent's transactions (two-agent traces). */
export class TraceAgent {
	private next = 0;
	private otherApplied = 0;
	private readonly inbox: ServerTextMessage[] = [];
	private readonly txns: readonly TraceTxn[];
	private readonly other: number;
	private readonly otherTotal: number;

	readonly client: OtTextClient;

	constructor(trace: Trace, agent: number, client: OtTextClient) {
		this.client = client;
		this.txns = trace.byAgent[agent] ?? [];
		this.other = 1 - agent;
		this.otherTotal = trace.byAgent[this.other]?.length ?? 0;
	}

	/** Everything made, acknowledged, and every edit of the other agent applied. */
	get done(): boolean {
		return (
			this.next === this.txns.length &&
			this.client.settled &&
			this.otherApplied === this.otherTotal &&
			this.inbox.length === 0
		);
	}

	receive(message: ServerTextMessage): void {
		this.inbox.push(message);
		this.pump();
	}

	/** Makes edits and applies messages as far as causality allows. */
	pump(): void {
		for (;;) {
			const txn = this.txns[this.next];
			const need = txn ? (txn.version[this.other] ?? 0) : this.otherTotal;
			if (this.otherApplied > need) throw new Error('applied an edit the next one did not know of');
			if (txn && this.otherApplied === need) {
				this.client.applyLocal(txn.ops);
				this.next++;
				continue;
			}
			const head = this.inbox[0];
			if (!head) return;
			if (head.kind === 'ack') this.client.acknowledge(head.revision);
			else if (this.otherApplied < need) {
				this.client.applyRemote(head.ops, head.author, head.revision);
				this.otherApplied++;
			} else return;
			this.inbox.shift();
		}
	}
}
