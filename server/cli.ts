#!/usr/bin/env node
// `ensemble`: the operator's command line. It works on the same storage as the
// server (DATA_DIR or DATABASE_URL from the environment, as for the server).
// Run it with `npx ensemble <command>` (npm puts Node 24 first on PATH).

import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as Y from 'yjs';
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { systemClock } from './runtime.ts';
import { createStorage, type EnsembleStorage } from './storage/index.ts';
import { SqliteStorage, backupSqlite, restoreSqlite } from './storage/sqlite.ts';
import { exportWorkspace, importWorkspace } from './storage/transfer.ts';
import { createAccount, normalizeEmail, passwordProblem, resetPassword } from './auth/accounts.ts';
import { parseWorkspaceId, type WorkspaceId } from './protocol/ids.ts';

const USAGE = `Usage: npx ensemble <command> [arguments]

Works on the storage the server uses: DATA_DIR (SQLite, default ./data) or
DATABASE_URL (PostgreSQL), read from the environment like the server does.

Commands:
  create-user EMAIL NAME [--password-stdin]   create an account (prints a generated
                                              password unless one is read from stdin)
  reset-password EMAIL [--password-stdin]     set a new password; signs the user out everywhere
  list-workspaces                             every workspace with its members count
  list-members WORKSPACE                      members of a workspace and their roles
  export WORKSPACE FILE                       documents, history, members, datasets → JSON file
  import FILE [--as WORKSPACE]                create a workspace from an export
  compact [WORKSPACE]                         fold document logs into snapshots (history kept)
  backup FILE                                 online copy of the SQLite database (server may run)
  restore FILE                                put a backup in place (stop the server first)
`;

class UsageError extends Error {}

function out(line: string): void {
	process.stdout.write(line + '\n');
}

async function readPassword(fromStdin: boolean): Promise<{ password: string; generated: boolean }> {
	if (!fromStdin) return { password: randomBytes(12).toString('base64url'), generated: true };
	const chunks: Buffer[] = [];
	for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
	const password = Buffer.concat(chunks)
		.toString('utf8')
		.replace(/\r?\n$/, '');
	const problem = await passwordProblem(password);
	if (problem) throw new UsageError(problem);
	return { password, generated: false };
}

function workspaceArg(value: string | undefined): WorkspaceId {
	const id = value ? parseWorkspaceId(value) : null;
	if (!id) throw new UsageError(`WORKSPACE must be a workspace id, got ${value ?? 'nothing'}`);
	return id;
}

function need(value: string | undefined, name: string): string {
	if (!value) throw new UsageError(`missing ${name}`);
	return value;
}

async function compactRooms(storage: EnsembleStorage, workspaces: WorkspaceId[]): Promise<number> {
	let compacted = 0;
	for (const workspace of workspaces) {
		for (const room of await storage.listRooms(workspace)) {
			const loaded = await storage.loadDoc(room);
			if (loaded.updates.length === 0) continue;
			const doc = new Y.Doc();
			if (loaded.snapshot) Y.applyUpdate(doc, loaded.snapshot);
			for (const u of loaded.updates) Y.applyUpdate(doc, u.update);
			// Only up to what was read: updates appended meanwhile by a running server stay in the log.
			await storage.compact(room, Y.encodeStateAsUpdate(doc), loaded.lastSeq);
			doc.destroy();
			out(`${room}: ${loaded.updates.length} updates folded into the snapshot`);
			compacted += 1;
		}
	}
	return compacted;
}

async function run(config: Config, command: string, args: string[], flags: Flags): Promise<void> {
	if (command === 'restore') {
		if (config.databaseUrl)
			throw new UsageError('restore is for SQLite; with PostgreSQL use pg_restore');
		const { replaced } = restoreSqlite(need(args[0], 'FILE'), config.dataDir);
		out(
			`restored ${args[0]} into ${config.dataDir}${replaced ? `; the previous database is kept as ${replaced}` : ''}`
		);
		return;
	}
	const logger = pino({ level: 'warn' }, pino.destination(2));
	const storage = await createStorage({
		dataDir: config.dataDir,
		databaseUrl: config.databaseUrl ?? undefined,
		clock: systemClock,
		logger
	});
	try {
		switch (command) {
			case 'create-user': {
				const email = need(args[0], 'EMAIL');
				const name = need(args[1], 'NAME');
				const { password, generated } = await readPassword(flags['password-stdin'] === true);
				const created = await createAccount(storage, systemClock, { name, email, password });
				if (!created.ok) throw new UsageError(created.message);
				out(`created ${created.user.email} (${created.user.id})`);
				if (generated) out(`password: ${password}`);
				return;
			}
			case 'reset-password': {
				const email = need(args[0], 'EMAIL');
				const user = await storage.getUserByEmail(normalizeEmail(email));
				if (!user) throw new UsageError(`no account with e-mail ${email}`);
				const { password, generated } = await readPassword(flags['password-stdin'] === true);
				await resetPassword(storage, user.id, password);
				out(`password of ${user.email} reset; their sessions are signed out`);
				if (generated) out(`password: ${password}`);
				return;
			}
			case 'list-workspaces': {
				for (const w of await storage.listWorkspaces()) {
					const members = await storage.listMembers(w.id);
					out(
						`${w.id}\t${w.name}\t${members.length} members\t${new Date(w.createdAt).toISOString()}`
					);
				}
				return;
			}
			case 'list-members': {
				const id = workspaceArg(args[0]);
				if (!(await storage.getWorkspace(id))) throw new UsageError(`no workspace ${id}`);
				for (const m of await storage.listMembers(id)) {
					const user = await storage.getUserById(m.userId);
					out(`${m.userId}\t${m.role}\t${user?.email ?? '?'}\t${user?.name ?? '?'}`);
				}
				return;
			}
			case 'export': {
				const id = workspaceArg(args[0]);
				const file = need(args[1], 'FILE');
				const data = await exportWorkspace(storage, id);
				await writeFile(file, JSON.stringify(data));
				out(
					`exported ${id} (${data.documents.length} documents, ${data.members.length} members) to ${file}`
				);
				return;
			}
			case 'import': {
				const file = need(args[0], 'FILE');
				// importWorkspace checks every entry before it stores anything.
				const data: unknown = JSON.parse(await readFile(file, 'utf8'));
				const as = typeof flags.as === 'string' ? workspaceArg(flags.as) : undefined;
				const report = await importWorkspace(storage, data, as ? { asWorkspace: as } : {});
				out(
					`imported ${report.workspace}: ${report.documents} documents, ${report.updates} updates, ${report.datasets} datasets, ${report.members} members`
				);
				if (report.skippedMembers.length > 0) {
					out(`members without an account here (not added): ${report.skippedMembers.join(', ')}`);
				}
				return;
			}
			case 'compact': {
				const ids = args[0]
					? [workspaceArg(args[0])]
					: (await storage.listWorkspaces()).map((w) => w.id);
				const n = await compactRooms(storage, ids);
				out(`compacted ${n} documents`);
				return;
			}
			case 'backup': {
				const file = need(args[0], 'FILE');
				if (!(storage instanceof SqliteStorage)) {
					throw new UsageError('backup is for SQLite; with PostgreSQL use pg_dump');
				}
				await backupSqlite(storage, file);
				out(`backed up ${storage.path} to ${file}`);
				return;
			}
			default:
				throw new UsageError(`unknown command ${command}`);
		}
	} finally {
		await storage.close();
	}
}

interface Flags {
	'password-stdin'?: boolean;
	as?: string;
	help?: boolean;
}

export async function cli(argv: string[]): Promise<number> {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: {
				'password-stdin': { type: 'boolean' },
				as: { type: 'string' },
				help: { type: 'boolean', short: 'h' }
			}
		});
	} catch (err) {
		process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
		return 2;
	}
	const [command, ...args] = parsed.positionals;
	if (!command || parsed.values.help) {
		process.stdout.write(USAGE);
		return command || parsed.values.help ? 0 : 2;
	}
	try {
		await run(loadConfig(), command, args, parsed.values);
		return 0;
	} catch (err) {
		if (err instanceof UsageError || err instanceof ConfigError) {
			process.stderr.write(`ensemble ${command}: ${err.message}\n`);
			return 2;
		}
		process.stderr.write(
			`ensemble ${command} failed: ${err instanceof Error ? err.message : String(err)}\n`
		);
		return 1;
	}
}

if (import.meta.main) {
	cli(process.argv.slice(2)).then(
		(code) => process.exit(code),
		(err: unknown) => {
			process.stderr.write(`${String(err)}\n`);
			process.exit(1);
		}
	);
}
