// The conflict alerts of one open workspace (CONFLICT1, APPCONFLICT1): my
// hyperparameter values that a concurrent write replaced, named by who won,
// with "put mine back" in one click. The winner's name comes from the params
// document's awareness (stamped by the relay), remembered after they leave.

import type { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import { stampedUser } from '../workspace/presence.svelte.ts';
import { watchConflicts, type ReplacedValue } from './hyperparameters.ts';

export interface ConflictAlert extends ReplacedValue {
	readonly id: number;
	readonly at: number;
}

export class ConflictAlerts {
	alerts = $state<ConflictAlert[]>([]);
	/** Every conflict since the page opened, for the "while you were away" summary. */
	all = $state<ConflictAlert[]>([]);
	/** Yjs client id → person's name, for every state the params awareness has shown. */
	private names = $state<Record<number, string>>({});
	private next = 1;
	private readonly stop: () => void;

	private readonly map: Y.Map<unknown>;
	private readonly awareness: Awareness;

	constructor(map: Y.Map<unknown>, awareness: Awareness) {
		this.map = map;
		this.awareness = awareness;
		this.stop = watchConflicts(map, (c) => {
			const alert = { ...c, id: this.next++, at: Date.now() };
			// One alert per key: the latest replacement is the one to act on.
			this.alerts = [...this.alerts.filter((a) => a.key !== c.key), alert];
			this.all = [...this.all, alert];
		});
		awareness.on('change', this.learnNames);
		this.learnNames();
	}

	private readonly learnNames = (): void => {
		let added: Record<number, string> | null = null;
		for (const [client, state] of this.awareness.getStates()) {
			const user = stampedUser(state);
			if (user && this.names[client] !== user.name) (added ??= {})[client] = user.name;
		}
		if (added) this.names = { ...this.names, ...added };
	};

	nameOf(client: number): string {
		return this.names[client] ?? 'Someone else';
	}

	/** Puts my replaced value back: a new write made after seeing theirs. */
	putBack(alert: ConflictAlert): void {
		this.map.set(alert.key, alert.mine);
		this.dismiss(alert);
	}

	dismiss(alert: ConflictAlert): void {
		this.alerts = this.alerts.filter((a) => a.id !== alert.id);
	}

	destroy(): void {
		this.stop();
		this.awareness.off('change', this.learnNames);
	}
}

/** A hyperparameter value as the alert shows it. */
export function shown(value: unknown): string {
	return typeof value === 'string' ? value : JSON.stringify(value);
}
