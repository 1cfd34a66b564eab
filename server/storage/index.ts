// Chooses the store: PostgreSQL when DATABASE_URL is set, else SQLite under DATA_DIR.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Logger } from '../runtime.ts';
import type { EnsembleStorage, StorageOptions } from './common.ts';
import { SqliteStorage } from './sqlite.ts';
import { SQLITE_FILE } from './sqliteBackup.ts';

export type { EnsembleStorage } from './common.ts';

export interface CreateStorageOptions extends StorageOptions {
	readonly dataDir: string;
	/** DATABASE_URL; empty or undefined means SQLite. */
	readonly databaseUrl?: string | undefined;
	readonly clock: Clock;
	readonly logger: Logger;
	/** PostgreSQL schema (default public). */
	readonly schema?: string;
}

export async function createStorage(options: CreateStorageOptions): Promise<EnsembleStorage> {
	if (options.databaseUrl) {
		// pg is loaded only when it is used: a SQLite server starts lighter.
		const { PostgresStorage } = await import('./postgres.ts');
		const store = await PostgresStorage.open({
			connectionString: options.databaseUrl,
			schema: options.schema,
			clock: options.clock,
			logger: options.logger,
			onCommit: options.onCommit
		});
		options.logger.info({ schema: store.schema }, 'storage: PostgreSQL');
		return store;
	}
	mkdirSync(options.dataDir, { recursive: true });
	const path = join(options.dataDir, SQLITE_FILE);
	const store = new SqliteStorage({
		path,
		clock: options.clock,
		logger: options.logger,
		onCommit: options.onCommit
	});
	options.logger.info({ path }, 'storage: SQLite');
	return store;
}
