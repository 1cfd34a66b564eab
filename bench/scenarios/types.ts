// What every scenario gives the orchestrator.

import type { ServerKind } from '../servers/types.ts';

export interface BenchConfig {
	readonly quick: boolean;
	readonly runs: number;
	readonly servers: readonly ServerKind[];
	/** Where V8 CPU profiles of the server go, when profiling. */
	readonly cpuProfDir: string | null;
}

/** Flat metrics of one run on one server: name → number (units in the name). */
export type Metrics = Record<string, number>;

export interface Scenario {
	readonly id: string;
	readonly title: string;
	/** Servers this scenario applies to (durability and scale-out are Ensemble's alone). */
	readonly servers: readonly ServerKind[];
	run(kind: ServerKind, config: BenchConfig): Promise<Metrics>;
}

export const ALL: readonly ServerKind[] = ['ensemble', 'ywebsocket', 'hocuspocus'];

export const MB = 1024 * 1024;
