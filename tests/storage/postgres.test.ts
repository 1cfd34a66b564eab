// The contract suite on PostgreSQL, each test in its own fresh schema. Without a
// reachable PostgreSQL the suite says so and how to start it; with CI=true it fails.

import { describe } from 'vitest';
import { runStorageContract } from './contract.ts';
import { postgresGate, postgresSetup } from './helpers.ts';

const reason = await postgresGate();

describe.skipIf(reason !== null)(reason ?? 'PostgreSQL', () => {
	runStorageContract('postgres', postgresSetup, { reopenable: true });
});
