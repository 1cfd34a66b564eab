// `npm run bench:call [-- --joins=10]`: calls in the app (issue 14). Four people,
// each in their own Chromium (fake camera and microphone) against the real
// server on loopback. Three stay in the call; the fourth joins and leaves
// `joins` times: join click → first remote video frame (p50, p95). Then all
// four in the call: each browser's CPU (its whole process tree, from /proc) over
// 10 s, as a share of one core. Writes bench/results/call.json.
// Needs an up-to-date build/ (`npx vite build`, or any e2e run builds it).

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { startServer } from '../server/main.ts';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { MEDIA_ARGS, withMedia } from '../tests/e2e/media.ts';

const RESULTS = join(import.meta.dirname, 'results');
const hit = process.argv.find((a) => a.startsWith('--joins='));
const JOINS = hit ? Number(hit.slice(8)) : 10;
const CPU_WINDOW_MS = 10_000;
const TICK = 100; // USER_HZ on Linux

interface Person {
	readonly name: string;
	readonly browser: Browser;
	readonly page: Page;
	readonly marker: string;
}

async function person(baseURL: string, name: string): Promise<Person> {
	// A switch Chromium ignores, to find this browser's processes in /proc.
	const marker = `--ensemble-bench-call=${name}-${process.pid}`;
	const browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: [...CHROMIUM_ARGS, ...MEDIA_ARGS, marker]
	});
	const context = await browser.newContext({ baseURL, viewport: { width: 1366, height: 860 } });
	await withMedia(context);
	const res = await context.request.post('/api/auth/signup', {
		data: { name, email: `${name}-${Date.now()}@bench.test`, password: 'bench password 1' }
	});
	if (!res.ok()) throw new Error(`sign-up failed: ${res.status()} ${await res.text()}`);
	const page = await context.newPage();
	// A busy machine starves the renderers: give clicks time rather than fail the run.
	page.setDefaultTimeout(120_000);
	page.on('console', (m) => {
		if (m.type() === 'warning' || m.type() === 'error') console.log(`${name}: ${m.text()}`);
	});
	return { name, browser, page, marker };
}

async function api<T>(p: Person, path: string, data?: unknown): Promise<T> {
	const res = await p.page.context().request.post(path, { data });
	if (!res.ok()) throw new Error(`POST ${path}: ${res.status()} ${await res.text()}`);
	return (await res.json()) as T;
}

async function joinCall(page: Page): Promise<number> {
	await page.getByRole('button', { name: 'Join call' }).click();
	const t0 = Date.now();
	await page.waitForFunction(
		() =>
			[
				...document.querySelectorAll<HTMLVideoElement>(
					'[data-testid="call-tile"][data-self="false"] video'
				)
			].some((v) => v.videoWidth > 0),
		undefined,
		{ polling: 10, timeout: 60_000 }
	);
	return Date.now() - t0;
}

/** User + system CPU seconds of a browser's whole process tree. */
function cpuSeconds(marker: string): number {
	const procs = new Map<number, { ppid: number; cpu: number; root: boolean }>();
	for (const entry of readdirSync('/proc')) {
		const pid = Number(entry);
		if (!Number.isInteger(pid)) continue;
		try {
			const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
			procs.set(pid, {
				ppid: Number(fields[1]),
				cpu: (Number(fields[11]) + Number(fields[12])) / TICK,
				root: cmdline.includes(marker)
			});
		} catch {
			// gone meanwhile
		}
	}
	const inTree = (pid: number): boolean => {
		for (let p = procs.get(pid); p; p = procs.get(p.ppid)) if (p.root) return true;
		return false;
	};
	let total = 0;
	for (const [pid, p] of procs) if (inTree(pid)) total += p.cpu;
	return total;
}

function quantile(sorted: readonly number[], q: number): number {
	return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
	const dataDir = mkdtempSync(join(tmpdir(), 'ensemble-bench-call-'));
	const server = await startServer({ port: 0, host: '127.0.0.1', dataDir, logLevel: 'warn' });
	const people: Person[] = [];
	try {
		for (const name of ['Ann', 'Ben', 'Cat', 'Dan']) people.push(await person(server.url, name));
		const [owner, ...others] = people as [Person, ...Person[]];
		const { workspace } = await api<{ workspace: { id: string } }>(owner, '/api/workspaces', {
			name: 'Call bench'
		});
		for (const p of others) {
			const invite = await api<{ invite_token: string }>(
				owner,
				`/api/workspaces/${workspace.id}/invite`,
				{ email: `${p.name}@bench.test`, role: 'editor' }
			);
			await api(p, `/api/workspaces/${workspace.id}/join?token=${invite.invite_token}`);
		}
		for (const p of people) {
			await p.page.goto(`/w/${workspace.id}`);
			await p.page.waitForSelector('[data-testid="sync-status"][data-state="saved"]');
		}
		const [a, b, c, d] = people as [Person, Person, Person, Person];
		// The first is alone: nothing to receive yet.
		await a.page.getByRole('button', { name: 'Join call' }).click();
		await a.page.getByRole('button', { name: 'Leave call' }).waitFor();
		for (const p of [b, c]) await joinCall(p.page);

		const joins: number[] = [];
		for (let i = 0; i < JOINS; i++) {
			joins.push(await joinCall(d.page));
			console.log(`join ${i + 1}/${JOINS}: first remote frame after ${joins.at(-1)} ms`);
			if (i < JOINS - 1) {
				await d.page.getByRole('button', { name: 'Leave call' }).click();
				await a.page.waitForFunction(
					() => document.querySelectorAll('[data-testid="call-tile"]').length === 3
				);
			}
		}
		// All four in the call: settle, then measure each browser's CPU.
		await a.page.waitForFunction(
			() => document.querySelectorAll('[data-testid="call-tile"] video').length === 4
		);
		await new Promise((r) => setTimeout(r, 5000));
		const before = people.map((p) => cpuSeconds(p.marker));
		const start = Date.now();
		await new Promise((r) => setTimeout(r, CPU_WINDOW_MS));
		const seconds = (Date.now() - start) / 1000;
		const cpu = people.map((p, i) => ({
			name: p.name,
			coreShare: Number(((cpuSeconds(p.marker) - (before[i] ?? 0)) / seconds).toFixed(3))
		}));
		const sorted = [...joins].sort((x, y) => x - y);
		const result = {
			when: new Date().toISOString(),
			machine: { cpus: cpus().length, loadavg: loadavg() },
			joinToFirstRemoteFrameMs: {
				runs: joins.length,
				p50: quantile(sorted, 0.5),
				p95: quantile(sorted, 0.95),
				all: joins
			},
			cpuPerParticipantInFourPersonCall: cpu,
			meanCoreShare: Number((cpu.reduce((s, x) => s + x.coreShare, 0) / cpu.length).toFixed(3))
		};
		console.log(JSON.stringify(result, null, 2));
		mkdirSync(RESULTS, { recursive: true });
		writeFileSync(join(RESULTS, 'call.json'), `${JSON.stringify(result, null, 2)}\n`);
	} finally {
		for (const p of people) await p.browser.close().catch(() => undefined);
		await server.close();
	}
}

await main();
