// Summarizes V8 CPU profiles written by `npm run bench -- --profile` (one per
// server process, in bench/results/profiles): self time by function and by file.
// Usage: node bench/profile.ts <file.cpuprofile> [top=25]

import { readFileSync } from 'node:fs';

interface ProfileNode {
	readonly id: number;
	readonly callFrame: { functionName: string; url: string; lineNumber: number };
	readonly children?: readonly number[];
}

interface CpuProfile {
	readonly nodes: readonly ProfileNode[];
	readonly samples: readonly number[];
	readonly timeDeltas: readonly number[];
}

const [file, topArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!file) throw new Error('usage: node bench/profile.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) =>
	selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
);

const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
	const frame = byId.get(id)?.callFrame;
	if (!frame) continue;
	const where = frame.url
		.replace(/^file:\/\/.*?node_modules\//, '')
		.replace(/^file:\/\/.*?\/main\//, '');
	const name = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
	byFunction.set(name, (byFunction.get(name) ?? 0) + us);
	const fileKey = where || frame.functionName;
	byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
}
const print = (title: string, map: Map<string, number>): void => {
	process.stdout.write(`\n${title} (total ${(total / 1000).toFixed(0)} ms)\n`);
	for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
		process.stdout.write(
			`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}\n`
		);
	}
};
print('self time by function', byFunction);
print('self time by file', byFile);

// `--callers=name`: where the self time of functions called `name` comes from (3 frames up).
const callersOf = process.argv.find((a) => a.startsWith('--callers='))?.slice(10);
if (callersOf) {
	const parent = new Map<number, number>();
	for (const node of profile.nodes)
		for (const child of node.children ?? []) parent.set(child, node.id);
	const label = (id: number | undefined): string => {
		const frame = id === undefined ? undefined : byId.get(id)?.callFrame;
		if (!frame) return '?';
		return `${frame.functionName || '(anonymous)'}@${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
	};
	const stacks = new Map<string, number>();
	for (const [id, us] of selfUs) {
		if (byId.get(id)?.callFrame.functionName !== callersOf) continue;
		const chain: string[] = [];
		let at = parent.get(id);
		for (let i = 0; i < 4 && at !== undefined; i++, at = parent.get(at)) chain.push(label(at));
		const key = chain.join(' < ');
		stacks.set(key, (stacks.get(key) ?? 0) + us);
	}
	process.stdout.write(`\ncallers of ${callersOf}\n`);
	for (const [key, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
		process.stdout.write(`${(us / 1000).toFixed(0).padStart(6)} ms  ${key}\n`);
	}
}
