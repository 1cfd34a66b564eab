// A reference client for the JSON protocol's text editing: the classic central-server
// OT client (one list of operations in flight, the rest queued), without I/O.
// Tests drive it; a JSON client in the browser could use it as is.

import { applyOperations, comesFirst, transformLists, type Operation } from './ot.ts';

export interface TextOpSender {
	(revision: number, ops: Operation[]): void;
}

export class OtTextClient {
	/** The file's text as this client sees it (its own edits included). */
	text: string;
	/** The server revision this client's view is based on. */
	revision: number;
	readonly clientId: number;
	private outstanding: Operation[] | null = null;
	/**
	 * Edits made while one is in flight, each sent as its own message after the
	 * previous one is acknowledged (kept apart rather than composed, so a message
	 * is exactly one local edit).
	 */
	private readonly queue: Operation[][] = [];
	private readonly send: TextOpSender;

	constructor(clientId: number, text: string, revision: number, send: TextOpSender) {
		this.clientId = clientId;
		this.text = text;
		this.revision = revision;
		this.send = send;
	}

	/** Whether every local edit has been acknowledged. */
	get settled(): boolean {
		return this.outstanding === null && this.queue.length === 0;
	}

	/** A local edit, already valid on `this.text`. */
	applyLocal(ops: Operation[]): void {
		this.text = applyOperations(this.text, ops);
		if (this.outstanding) this.queue.push(ops);
		else {
			this.outstanding = ops;
			this.send(this.revision, ops);
		}
	}

	/** Someone else's edit, as the server broadcast it (`text_op`). */
	applyRemote(ops: readonly Operation[], author: number, revision: number): void {
		const mineFirst = comesFirst(this.clientId, author);
		let incoming: Operation[] = ops.slice();
		if (this.outstanding) {
			[this.outstanding, incoming] = transformLists(this.outstanding, incoming, mineFirst);
		}
		for (let i = 0; i < this.queue.length; i++) {
			const queued = this.queue[i];
			if (!queued) continue;
			const [q2, in2] = transformLists(queued, incoming, mineFirst);
			this.queue[i] = q2;
			incoming = in2;
		}
		this.text = applyOperations(this.text, incoming);
		this.revision = revision;
	}

	/** The server accepted the edit in flight as `revision` (`text_op_ack`). */
	acknowledge(revision: number): void {
		this.outstanding = null;
		this.revision = revision;
		const next = this.queue.shift();
		if (next) {
			this.outstanding = next;
			this.send(this.revision, next);
		}
	}
}
