// Server configuration from environment variables, validated once at start with
// errors that name the variable and say what is expected. `--help` prints VARIABLES.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIceServers, type IceServer } from './protocol/call.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
	readonly port: number;
	readonly host: string;
	readonly dataDir: string;
	readonly databaseUrl: string | null;
	readonly redisUrl: string | null;
	/** The origin users reach the server at (behind a proxy), e.g. https://ensemble.example.com. */
	readonly publicUrl: string | null;
	readonly secret: string;
	readonly smtpUrl: string | null;
	readonly smtpFrom: string;
	readonly signup: 'open' | 'invite-only';
	readonly logLevel: LogLevel;
	readonly maxMessageBytes: number;
	/** Bytes of updates waiting for storage, over all documents, before writers get 1013. */
	readonly maxUnstoredBytes: number;
	/** Trust X-Forwarded-* headers (behind a reverse proxy). */
	readonly trustProxy: boolean;
	readonly sessionTtlMs: number;
	readonly inviteTtlMs: number;
	/** The built app (served with an SPA fallback when it exists). */
	readonly staticDir: string;
	/**
	 * Failed sign-ins allowed in `signInWindowMs` per (account, address), per
	 * account from addresses it does not know, and per address (rateLimit.ts).
	 */
	readonly signInMaxPerPair: number;
	readonly signInMaxPerAccount: number;
	readonly signInMaxPerAddress: number;
	readonly signInWindowMs: number;
	/** Sign-up and sign-in requests allowed per address per minute (0: no limit). */
	readonly authRateLimit: number;
	/** The share of one core a training run may use (0.05–1), so the relay keeps its event loop. */
	readonly trainingCpuShare: number;
	/** Bytes of uploaded data sets each workspace may keep (DATASET_QUOTA_MB). */
	readonly datasetQuotaBytes: number;
	/**
	 * This process's name among several sharing one PostgreSQL (default host:PORT):
	 * it owns the training runs it starts, and after a restart ends only its own.
	 */
	readonly instanceId: string;
	/** Runs on the server: `auto` uses bubblewrap where it works; `off` never runs scripts here. */
	readonly runnerSandbox: 'auto' | 'off';
	readonly runnerPython: string;
	readonly runnerMemoryMb: number;
	readonly runnerMaxProcesses: number;
	readonly runnerScratchMb: number;
	readonly runnerTimeLimitS: number;
	/** A running run whose executor (agent, script, process) is silent this long ends `lost`. */
	readonly runnerLostAfterS: number;
	/** STUN/TURN servers handed to browsers for calls (ICE_SERVERS, JSON). */
	readonly iceServers: readonly IceServer[];
	/** A debugged script that has not polled for this long is shown as gone (issue 15). */
	readonly debugGoneAfterS: number;
}

export class ConfigError extends Error {
	override name = 'ConfigError';
}

const DAY = 24 * 60 * 60 * 1000;
const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

interface Variable {
	readonly name: string;
	readonly default: string;
	readonly help: string;
}

export const VARIABLES: readonly Variable[] = [
	{ name: 'PORT', default: '8000', help: 'TCP port for HTTP and WebSocket (0 picks a free one)' },
	{ name: 'HOST', default: '0.0.0.0', help: 'interface to listen on' },
	{ name: 'DATA_DIR', default: './data', help: 'SQLite database, generated secret' },
	{
		name: 'DATABASE_URL',
		default: '',
		help: 'postgres://… to store in PostgreSQL instead of SQLite'
	},
	{
		name: 'REDIS_URL',
		default: '',
		help: 'redis://… to share documents between several processes'
	},
	{
		name: 'PUBLIC_URL',
		default: '',
		help: 'origin users reach (https://… turns on Secure cookies)'
	},
	{
		name: 'SECRET',
		default: 'generated',
		help: 'signs WebSocket tokens; at least 32 characters; share it between processes (kept in DATA_DIR/secret when unset)'
	},
	{ name: 'SMTP_URL', default: '', help: 'smtp(s)://user:pass@host:port to e-mail invitations' },
	{ name: 'SMTP_FROM', default: 'Ensemble <no-reply@localhost>', help: 'sender of invitations' },
	{ name: 'SIGNUP', default: 'open', help: 'open, or invite-only (sign-up needs an invitation)' },
	{ name: 'LOG_LEVEL', default: 'info', help: LOG_LEVELS.join(', ') },
	{
		name: 'MAX_MESSAGE_BYTES',
		default: '10485760',
		help: 'largest WebSocket message (close 1009 above)'
	},
	{
		name: 'MAX_UNSTORED_BYTES',
		default: '67108864',
		help: 'bytes of changes held in memory while storage is down or slow, over all documents; writers beyond it are closed with 1013 and retry'
	},
	{
		name: 'TRUST_PROXY',
		default: 'false',
		help: 'true behind a reverse proxy (X-Forwarded-For/-Proto)'
	},
	{ name: 'SESSION_DAYS', default: '30', help: 'sign-in session lifetime in days' },
	{ name: 'INVITE_DAYS', default: '7', help: 'default invitation lifetime in days' },
	{ name: 'STATIC_DIR', default: './build', help: 'built app to serve' },
	{
		name: 'AUTH_RATE_LIMIT',
		default: '100',
		help: 'sign-up and sign-in requests per address per minute (0: no limit)'
	},
	{
		name: 'TRAINING_CPU_PERCENT',
		default: '25',
		help: 'percent of one core a built-in training run may use (5-100); more trains faster but slows the relay'
	},
	{
		name: 'DATASET_QUOTA_MB',
		default: '100',
		help: 'megabytes of uploaded data sets each workspace may keep; an upload past it is refused with 413'
	},
	{
		name: 'RUNNER_SANDBOX',
		default: 'auto',
		help: 'auto: run scripts on the server in bubblewrap where it works (never without it); off: never'
	},
	{
		name: 'RUNNER_PYTHON',
		default: '/usr/bin/python3',
		help: 'the Python that runs scripts on the server, e.g. a virtualenv with numpy/torch (/opt/ensemble-venv/bin/python)'
	},
	{
		name: 'RUNNER_MEMORY_MB',
		default: '1024',
		help: 'address-space limit of a run on the server (MB)'
	},
	{
		name: 'RUNNER_MAX_PROCESSES',
		default: '64',
		help: 'processes and threads a run on the server may have'
	},
	{
		name: 'RUNNER_SCRATCH_MB',
		default: '256',
		help: "size of a run's scratch folder (a tmpfs) on the server (MB)"
	},
	{
		name: 'RUNNER_TIME_LIMIT_S',
		default: '3600',
		help: 'wall time (and CPU time) a run on the server may take (s)'
	},
	{
		name: 'RUNNER_LOST_AFTER_S',
		default: '25',
		help: 'a running run whose agent, script or process has not sent a heartbeat for this long ends lost'
	},
	{
		name: 'DEBUG_GONE_AFTER_S',
		default: '10',
		help: 'a script being debugged that has not been heard from for this long is shown as gone'
	},
	{
		name: 'INSTANCE_ID',
		default: 'host:PORT',
		help: 'with DATABASE_URL: a name for this process that stays the same across its restarts (its training runs are its own)'
	},
	{
		name: 'ICE_SERVERS',
		default: '[]',
		help: 'STUN/TURN servers for calls, JSON: [{"urls":"turn:turn.example.com:3478","username":"u","credential":"p"}]'
	}
];

export function configHelp(): string {
	const width = Math.max(...VARIABLES.map((v) => v.name.length));
	const lines = VARIABLES.map(
		(v) => `  ${v.name.padEnd(width)}  ${v.help}${v.default ? ` (default: ${v.default})` : ''}`
	);
	return [
		'Ensemble server: the app, /api/* and /ws/* on one port.',
		'',
		'Usage: node server/main.ts [--help]',
		'',
		'Environment variables:',
		...lines,
		''
	].join('\n');
}

type Env = Readonly<Record<string, string | undefined>>;

function str(env: Env, name: string): string | null {
	const value = env[name]?.trim();
	return value ? value : null;
}

function sandboxMode(env: Env): 'auto' | 'off' {
	const raw = str(env, 'RUNNER_SANDBOX') ?? 'auto';
	if (raw !== 'auto' && raw !== 'off')
		throw new ConfigError(`RUNNER_SANDBOX must be auto or off, got "${raw}"`);
	return raw;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
	const raw = str(env, name);
	if (raw === null) return fallback;
	if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
	const value = Number(raw);
	if (value < min || value > max) {
		throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
	}
	return value;
}

function url(env: Env, name: string, protocols: readonly string[]): string | null {
	const raw = str(env, name);
	if (raw === null) return null;
	let parsed: URL;
	try {
		parsed = new URL(raw);
	} catch {
		throw new ConfigError(`${name} must be a URL (${protocols.join(' or ')}), got something else`);
	}
	if (!protocols.includes(parsed.protocol)) {
		throw new ConfigError(
			`${name} must start with ${protocols.join(' or ')}, got ${parsed.protocol}`
		);
	}
	return raw;
}

function iceServers(env: Env): IceServer[] {
	const raw = str(env, 'ICE_SERVERS');
	if (raw === null) return [];
	try {
		return parseIceServers(raw);
	} catch (err) {
		throw new ConfigError(`ICE_SERVERS ${err instanceof Error ? err.message : String(err)}`);
	}
}

function bool(env: Env, name: string): boolean {
	const raw = str(env, name)?.toLowerCase() ?? 'false';
	if (['1', 'true', 'yes'].includes(raw)) return true;
	if (['0', 'false', 'no'].includes(raw)) return false;
	throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** Reads SECRET, or the one kept in DATA_DIR (creating it on first start). */
function loadSecret(env: Env, dataDir: string): string {
	const given = str(env, 'SECRET');
	if (given !== null) {
		if (given.length < 32) throw new ConfigError('SECRET must be at least 32 characters long');
		return given;
	}
	const file = join(dataDir, 'secret');
	if (existsSync(file)) {
		const kept = readFileSync(file, 'utf8').trim();
		if (kept.length < 32)
			throw new ConfigError(`${file} holds a secret shorter than 32 characters`);
		return kept;
	}
	mkdirSync(dataDir, { recursive: true });
	const secret = randomBytes(32).toString('base64url');
	writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
	return secret;
}

/** Builds the configuration; `overrides` win over the environment (tests, benches). */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
	const dataDir = resolve(overrides.dataDir ?? str(env, 'DATA_DIR') ?? './data');
	const signup = overrides.signup ?? str(env, 'SIGNUP') ?? 'open';
	if (signup !== 'open' && signup !== 'invite-only') {
		throw new ConfigError(`SIGNUP must be "open" or "invite-only", got "${signup}"`);
	}
	const logLevel = overrides.logLevel ?? str(env, 'LOG_LEVEL') ?? 'info';
	if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
		throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
	}
	const publicUrl = overrides.publicUrl ?? url(env, 'PUBLIC_URL', ['http:', 'https:']);
	const port = overrides.port ?? int(env, 'PORT', 8000, 0, 65535);
	const config: Config = {
		port,
		host: overrides.host ?? str(env, 'HOST') ?? '0.0.0.0',
		dataDir,
		databaseUrl:
			overrides.databaseUrl !== undefined
				? overrides.databaseUrl
				: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
		redisUrl:
			overrides.redisUrl !== undefined
				? overrides.redisUrl
				: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
		publicUrl: publicUrl ? new URL(publicUrl).origin : null,
		secret: overrides.secret ?? loadSecret(env, dataDir),
		smtpUrl:
			overrides.smtpUrl !== undefined
				? overrides.smtpUrl
				: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
		smtpFrom: overrides.smtpFrom ?? str(env, 'SMTP_FROM') ?? 'Ensemble <no-reply@localhost>',
		signup,
		logLevel: logLevel as LogLevel,
		maxMessageBytes:
			overrides.maxMessageBytes ??
			int(env, 'MAX_MESSAGE_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
		maxUnstoredBytes:
			overrides.maxUnstoredBytes ??
			int(env, 'MAX_UNSTORED_BYTES', 64 * 1024 * 1024, 1024 * 1024, 64 * 1024 * 1024 * 1024),
		trustProxy: overrides.trustProxy ?? bool(env, 'TRUST_PROXY'),
		sessionTtlMs: overrides.sessionTtlMs ?? int(env, 'SESSION_DAYS', 30, 1, 3650) * DAY,
		inviteTtlMs: overrides.inviteTtlMs ?? int(env, 'INVITE_DAYS', 7, 1, 365) * DAY,
		staticDir: resolve(REPO_ROOT, overrides.staticDir ?? str(env, 'STATIC_DIR') ?? './build'),
		signInMaxPerPair: overrides.signInMaxPerPair ?? 5,
		signInMaxPerAccount: overrides.signInMaxPerAccount ?? 100,
		signInMaxPerAddress: overrides.signInMaxPerAddress ?? 20,
		signInWindowMs: overrides.signInWindowMs ?? 15 * 60 * 1000,
		authRateLimit: overrides.authRateLimit ?? int(env, 'AUTH_RATE_LIMIT', 100, 0, 1_000_000),
		datasetQuotaBytes:
			overrides.datasetQuotaBytes ?? int(env, 'DATASET_QUOTA_MB', 100, 1, 1_000_000) * 1024 * 1024,
		trainingCpuShare:
			overrides.trainingCpuShare ?? int(env, 'TRAINING_CPU_PERCENT', 25, 5, 100) / 100,
		instanceId: overrides.instanceId ?? str(env, 'INSTANCE_ID') ?? `${hostname()}:${port}`,
		runnerSandbox: overrides.runnerSandbox ?? sandboxMode(env),
		runnerPython: overrides.runnerPython ?? str(env, 'RUNNER_PYTHON') ?? '/usr/bin/python3',
		runnerMemoryMb: overrides.runnerMemoryMb ?? int(env, 'RUNNER_MEMORY_MB', 1024, 64, 1_048_576),
		runnerMaxProcesses:
			overrides.runnerMaxProcesses ?? int(env, 'RUNNER_MAX_PROCESSES', 64, 4, 100_000),
		runnerScratchMb: overrides.runnerScratchMb ?? int(env, 'RUNNER_SCRATCH_MB', 256, 1, 1_048_576),
		runnerTimeLimitS:
			overrides.runnerTimeLimitS ?? int(env, 'RUNNER_TIME_LIMIT_S', 3600, 1, 30 * 24 * 3600),
		runnerLostAfterS: overrides.runnerLostAfterS ?? int(env, 'RUNNER_LOST_AFTER_S', 25, 1, 3600),
		iceServers: overrides.iceServers ?? iceServers(env),
		debugGoneAfterS: overrides.debugGoneAfterS ?? int(env, 'DEBUG_GONE_AFTER_S', 10, 1, 3600)
	};
	if (config.secret.length < 32)
		throw new ConfigError('SECRET must be at least 32 characters long');
	return config;
}

/**
 * The address this process is reached at when PUBLIC_URL is unset: HOST and the
 * bound port, with 127.0.0.1 for "every interface". Never taken from a
 * request's Host header, which the sender chooses.
 */
export function listeningUrl(host: string, port: number): string {
	const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
	return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}
