// The contract suite on PostgreSQL, each test in its own fresh schema. Without a
// reachable PostgreSQL the suite says so and how to start it; with CI=true it fails.

import { describe, it } from 'vitest';
import { runStorageContract } from './contract.ts';
import { DATABASE_URL, postgresSetup, postgresUnreachable } from './helpers.ts';

const START = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
const unreachable = await postgresUnreachable();
const reason = unreachable
	? `PostgreSQL not reachable at ${DATABASE_URL} (${unreachable}): start it with \`${START}\``
	: null;

if (reason && process.env.CI === 'true') {
	describe('PostgreSQL storage (required in CI)', () => {
		it('[STORE0] PostgreSQL is reachable', () => {
			throw new Error(reason);
		});
	});
} else {
	if (reason) console.warn(`\n*** Skipping the PostgreSQL storage suite. ${reason}\n`);
	describe.skipIf(reason !== null)(reason ?? 'PostgreSQL', () => {
		runStorageContract('postgres', postgresSetup, { reopenable: true });
	});
}
