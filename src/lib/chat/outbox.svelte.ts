// Chat messages written here that the server has not accepted yet: kept in
// localStorage (so a reload offline keeps them) and sent in order on reconnect.

import { api, ApiError } from '../api.ts';
import { readLocal, writeLocal } from '../local.ts';

export interface Outgoing {
	readonly id: string;
	readonly text: string;
	readonly at: number;
	/** Why the server refused it (it will not be retried), or null while queued. */
	readonly failed: string | null;
}

function isOutgoing(v: unknown): v is Outgoing[] {
	return (
		Array.isArray(v) &&
		v.every(
			(m: unknown) =>
				typeof m === 'object' &&
				m !== null &&
				typeof (m as Outgoing).id === 'string' &&
				typeof (m as Outgoing).text === 'string'
		)
	);
}

export class ChatOutbox {
	items = $state<Outgoing[]>([]);
	/** Why queued messages wait although we are online (the server said "too fast"), or null. */
	notice = $state<string | null>(null);
	private readonly workspaceId: string;
	private sending = false;
	private retryTimer: ReturnType<typeof setTimeout> | null = null;

	constructor(workspaceId: string) {
		this.workspaceId = workspaceId;
		this.items = readLocal(this.key, isOutgoing) ?? [];
	}

	private get key(): string {
		return `chat-outbox:${this.workspaceId}`;
	}

	add(text: string): void {
		this.items = [...this.items, { id: crypto.randomUUID(), text, at: Date.now(), failed: null }];
		this.save();
	}

	discard(id: string): void {
		this.items = this.items.filter((m) => m.id !== id);
		this.save();
	}

	/** Sends queued messages in order; stops at the first network failure. */
	async flush(): Promise<void> {
		if (this.sending) return;
		this.sending = true;
		try {
			for (;;) {
				const next = this.items.find((m) => m.failed === null);
				if (!next) return;
				try {
					await api.chat(this.workspaceId, next.text, next.id, next.at);
					this.items = this.items.filter((m) => m.id !== next.id);
					this.notice = null;
				} catch (err) {
					if (err instanceof ApiError && err.status === 429) {
						// Refused for now, not for good: say so, and send again when the server says we may.
						this.notice = err.message;
						this.retryIn(Math.max(1, err.retryAfter) * 1000);
						return;
					}
					if (err instanceof ApiError && (err.offline || err.status >= 500)) return;
					const reason = err instanceof Error ? err.message : String(err);
					this.items = this.items.map((m) => (m.id === next.id ? { ...m, failed: reason } : m));
				} finally {
					this.save();
				}
			}
		} finally {
			this.sending = false;
		}
	}

	/** Stops a pending retry (the panel is going away). */
	dispose(): void {
		if (this.retryTimer !== null) clearTimeout(this.retryTimer);
		this.retryTimer = null;
	}

	private retryIn(ms: number): void {
		if (this.retryTimer !== null) clearTimeout(this.retryTimer);
		this.retryTimer = setTimeout(() => {
			this.retryTimer = null;
			this.flush().catch((err: unknown) => console.error('ensemble: sending chat failed', err));
		}, ms);
	}

	private save(): void {
		writeLocal(this.key, this.items);
	}
}
