// Reactive snapshots of Yjs shared types for Svelte: re-read on every change.

import type * as Y from 'yjs';

export class MapSnapshot<T> {
	value = $state.raw<Record<string, T>>({});
	private readonly map: Y.Map<T>;

	constructor(map: Y.Map<T>) {
		this.map = map;
		this.read();
		map.observe(this.read);
	}

	private readonly read = (): void => {
		this.value = Object.fromEntries(this.map.entries());
	};

	destroy(): void {
		this.map.unobserve(this.read);
	}
}

export class ArraySnapshot<T> {
	value = $state.raw<T[]>([]);
	private readonly array: Y.Array<T>;

	constructor(array: Y.Array<T>) {
		this.array = array;
		this.read();
		array.observe(this.read);
	}

	private readonly read = (): void => {
		this.value = this.array.toArray();
	};

	destroy(): void {
		this.array.unobserve(this.read);
	}
}

/** Keys of a Y.Map, sorted, kept current (file names). */
export class KeysSnapshot<T> {
	value = $state.raw<string[]>([]);
	private readonly map: Y.Map<T>;

	constructor(map: Y.Map<T>) {
		this.map = map;
		this.read();
		map.observe(this.read);
	}

	private readonly read = (): void => {
		this.value = [...this.map.keys()].sort((a, b) => a.localeCompare(b));
	};

	destroy(): void {
		this.map.unobserve(this.read);
	}
}
