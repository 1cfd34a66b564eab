// The machine a run was measured on, and how busy it was.

import { cpus, loadavg, totalmem } from 'node:os';

export interface Machine {
	readonly cpu: string;
	readonly cores: number;
	readonly memoryGB: number;
	readonly node: string;
	readonly date: string;
	readonly loadAverageAtStart: readonly number[];
	loadAverageAtEnd: readonly number[];
}

export function machine(): Machine {
	const list = cpus();
	return {
		cpu: list[0]?.model ?? 'unknown',
		cores: list.length,
		memoryGB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
		node: process.version,
		date: new Date().toISOString(),
		loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
		loadAverageAtEnd: []
	};
}
