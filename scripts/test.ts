// `npm test`: the Vitest suites (unit and integration, real sockets and databases)
// and then the Playwright suites in Debian's Chromium, with one closing line that
// counts both: "tests: N passed, N failed, N skipped".

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'ensemble-test-'));
const vitestJson = join(dir, 'vitest.json');
const playwrightJson = join(dir, 'playwright.json');
const extra = process.argv.slice(2);

interface Counts {
	passed: number;
	failed: number;
	skipped: number;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
	const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
	return result.status ?? 1;
}

function readJson(path: string): unknown {
	try {
		return JSON.parse(readFileSync(path, 'utf8'));
	} catch {
		return null;
	}
}

function vitestCounts(): Counts | null {
	const report = readJson(vitestJson) as {
		numPassedTests: number;
		numFailedTests: number;
		numPendingTests: number;
		numTodoTests: number;
	} | null;
	if (!report) return null;
	return {
		passed: report.numPassedTests,
		failed: report.numFailedTests,
		skipped: report.numPendingTests + report.numTodoTests
	};
}

function playwrightCounts(): Counts | null {
	const report = readJson(playwrightJson) as {
		stats: { expected: number; unexpected: number; flaky: number; skipped: number };
	} | null;
	if (!report) return null;
	const { expected, unexpected, flaky, skipped } = report.stats;
	return { passed: expected + flaky, failed: unexpected, skipped };
}

const vitestStatus = run('vitest', [
	'run',
	'--reporter=default',
	'--reporter=json',
	`--outputFile.json=${vitestJson}`,
	...extra
]);
const playwrightStatus = run('playwright', ['test', '--reporter=list,json'], {
	PLAYWRIGHT_JSON_OUTPUT_NAME: playwrightJson
});

const parts = [vitestCounts(), playwrightCounts()];
rmSync(dir, { recursive: true, force: true });

const total: Counts = { passed: 0, failed: 0, skipped: 0 };
for (const part of parts) {
	if (!part) continue;
	total.passed += part.passed;
	total.failed += part.failed;
	total.skipped += part.skipped;
}
// A runner that crashed before writing its report counts as a failure.
if (parts.some((p) => p === null)) total.failed += 1;

console.log(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(vitestStatus === 0 && playwrightStatus === 0 && total.failed === 0 ? 0 : 1);
