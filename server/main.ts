#!/usr/bin/env node
// Wiring: configuration, logger, clock, storage, bus, relay, compat, training,
// the HTTP API and the WebSocket upgrade on one port, and a clean shutdown.
// `startServer()` is what tests and benches use; `node server/main.ts` runs it.

import { flushCompileCache } from 'node:module';
import type { AddressInfo } from 'node:net';
import { pino, type Logger as PinoLogger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { ConfigError, configHelp, listeningUrl, loadConfig, type Config } from './config.ts';
import { systemClock, type Clock } from './runtime.ts';
import type { Storage } from './storage/types.ts';
import { createStorage } from './storage/index.ts';
import { MemoryStorage } from './storage/memory.ts';
import { MemoryBus, type Bus } from './relay/bus.ts';
import { Relay } from './relay/relay.ts';
import type { RelayApi } from './relay/api.ts';
import { CompatServer } from './compat/index.ts';
import type { CompatLimits } from './compat/index.ts';
import { sandboxExecutor, TrainingService, trainingPlugin } from './training/index.ts';
import { HistoryService, historyPlugin } from './history/index.ts';
import { Sessions } from './auth/sessions.ts';
import { WsTokens } from './auth/wsTokens.ts';
import { Invites } from './auth/invites.ts';
import { createMailer } from './auth/mailer.ts';
import { SignInLimiter } from './auth/rateLimit.ts';
import { buildApp } from './api/app.ts';
import type { AppContext, Readiness } from './api/context.ts';
import { createMetrics, timed, timedStorage } from './api/metrics.ts';
import { SessionSockets } from './api/sessionSockets.ts';
import { attachUpgrade } from './api/upgrade.ts';
import { CallServer, type CallLimits } from './calls/callServer.ts';
import { DebugService } from './debug/service.ts';
import { debugPlugin } from './debug/routes.ts';
import { sandboxDebugger } from './debug/sandboxBridge.ts';
import type { RunId } from './protocol/ids.ts';

export interface StartOptions extends Partial<Config> {
	/** Environment to read (default process.env); overrides above win over it. */
	readonly env?: Readonly<Record<string, string | undefined>>;
	/** 'memory' for a throwaway in-memory store, or a store the caller owns and closes. */
	readonly storage?: 'memory' | Storage;
	readonly clock?: Clock;
	/** pino logger (default: JSON to stdout at LOG_LEVEL). */
	readonly logger?: PinoLogger;
	/** Limits of the seed's JSON protocol (tests that replay traces faster than anyone types). */
	readonly compatLimits?: Partial<CompatLimits>;
	/** Limits of call signalling (tests that need a fast ping). */
	readonly callLimits?: Partial<CallLimits>;
}

export interface RunningServer {
	/** http://host:port, with 127.0.0.1 when listening on every interface. */
	readonly url: string;
	readonly port: number;
	readonly config: Config;
	readonly relay: RelayApi;
	readonly storage: Storage;
	readonly app: FastifyInstance;
	/** Drains: stops accepting, closes connections with 1012, flushes and closes storage. Idempotent. */
	close(): Promise<void>;
}

/** Drops the query string (it may hold `?token=`) from logged URLs. */
function redactUrl(url: string | undefined): string {
	const path = (url ?? '').split('?')[0] ?? '';
	return url?.includes('?') ? `${path}?[redacted]` : path;
}

export function createLogger(level: Config['logLevel']): PinoLogger {
	return pino({
		level,
		serializers: {
			req: (req: { method?: string; url?: string; ip?: string; id?: string }) => ({
				id: req.id,
				method: req.method,
				url: redactUrl(req.url),
				remoteAddress: req.ip
			}),
			err: pino.stdSerializers.err
		},
		redact: {
			paths: ['token', '*.token', 'password', '*.password', 'headers.cookie', '*.headers.cookie'],
			censor: '[redacted]'
		}
	});
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
	const {
		env = process.env,
		storage: storageOption,
		clock = systemClock,
		logger: givenLogger,
		compatLimits,
		callLimits,
		...overrides
	} = options;
	const config = loadConfig(env, overrides);
	const logger = givenLogger ?? createLogger(config.logLevel);
	const metrics = createMetrics(clock);

	const ownsStorage = typeof storageOption !== 'object';
	const rawStorage: Storage =
		storageOption === 'memory'
			? new MemoryStorage({ logger })
			: (storageOption ??
				(await createStorage({
					dataDir: config.dataDir,
					databaseUrl: config.databaseUrl ?? undefined,
					clock,
					logger,
					onCommit: (info) => metrics.storeLatency.observe({ op: 'commit' }, info.ms / 1000)
				})));
	const storage = timedStorage(rawStorage, metrics.storeLatency);

	const readiness: Readiness = { draining: false, checks: [] };
	let bus: Bus;
	if (config.redisUrl) {
		// ioredis is loaded only when it is used: one process without Redis starts lighter.
		const { RedisBus } = await import('./relay/redisBus.ts');
		const redisBus = new RedisBus({ url: config.redisUrl, logger: logger.child({ part: 'bus' }) });
		readiness.checks.push({ name: 'redis', check: () => redisBus.healthy() });
		bus = redisBus;
	} else {
		bus = new MemoryBus();
	}
	const relay = new Relay({
		storage,
		bus: timed(bus, { publish: 'publish' }, metrics.busLatency),
		clock,
		logger: logger.child({ part: 'relay' }),
		limits: { maxMessageBytes: config.maxMessageBytes, maxUnstoredBytes: config.maxUnstoredBytes }
	});
	// Not ready while a document's changes are not being stored (DURABLE1).
	readiness.checks.push({ name: 'storing', check: () => Promise.resolve(relay.storing()) });
	// Not ready until role changes from other processes are heard (BUS4).
	readiness.checks.push({ name: 'bus', check: () => Promise.resolve(relay.listening()) });
	metrics.attachRelay(relay);
	const compat = new CompatServer({ relay, clock, logger, limits: compatLimits });
	const debug = new DebugService({
		relay,
		clock,
		logger: logger.child({ part: 'debug' }),
		goneAfterMs: config.debugGoneAfterS * 1000
	});
	const lostAfterMs = config.runnerLostAfterS * 1000;
	const training: TrainingService = new TrainingService({
		relay,
		storage,
		clock,
		logger,
		cpuShare: config.trainingCpuShare,
		datasetQuotaBytes: config.datasetQuotaBytes,
		executors: [
			sandboxExecutor(
				config,
				logger,
				// Stop from the debugger stops the run as the Stop button does (named).
				sandboxDebugger(debug, logger.child({ part: 'debug' }), (ws, run, by): Promise<unknown> =>
					training.stop(ws, run as RunId, { id: by.id, name: by.name })
				)
			)
		],
		lostAfterMs,
		heartbeatMs: Math.min(5000, Math.round(lostAfterMs / 4)),
		// One SQLite file has one process: it owns every run. On a shared PostgreSQL
		// each process ends only its own runs after a restart.
		instance: config.databaseUrl ? config.instanceId : ''
	});

	const calls = new CallServer({
		bus,
		relay,
		clock,
		logger,
		iceServers: config.iceServers,
		limits: callLimits
	});
	const history = new HistoryService({
		storage,
		relay,
		clock,
		logger: logger.child({ part: 'history' })
	});

	const mailer = createMailer(config.smtpUrl, config.smtpFrom, logger.child({ part: 'mail' }));
	const ctx: AppContext = {
		config,
		storage,
		relay,
		clock,
		logger,
		sessions: new Sessions({ storage, clock, ttlMs: config.sessionTtlMs }),
		wsTokens: new WsTokens({ secret: config.secret, clock, publicUrl: config.publicUrl }),
		invites: new Invites(storage, clock),
		mailer,
		signInLimiter: new SignInLimiter(clock, {
			maxPerPair: config.signInMaxPerPair,
			maxPerAccount: config.signInMaxPerAccount,
			maxPerAddress: config.signInMaxPerAddress,
			windowMs: config.signInWindowMs
		}),
		readiness,
		compat,
		calls,
		sessionSockets: new SessionSockets(bus, logger.child({ part: 'sessions' }))
	};
	const interrupted = await training.recoverInterrupted();
	if (interrupted > 0)
		logger.warn(
			{ runs: interrupted },
			'runs left running by the previous process marked interrupted'
		);
	const app = await buildApp({
		ctx,
		metrics,
		httpLogger: logger,
		plugins: [
			trainingPlugin(ctx, training),
			historyPlugin(ctx, history),
			debugPlugin(ctx, debug, training.apiKeys)
		]
	});
	const upgrade = attachUpgrade(app.server, ctx, metrics);
	// Sign-outs on other processes must reach this one before it accepts sockets.
	await ctx.sessionSockets.ready();
	try {
		await app.listen({ port: config.port, host: config.host });
	} catch (err) {
		// Port taken or not allowed: release what was opened so a caller (a test) can go on.
		await app.close();
		await debug.close();
		await training.close();
		await history.close();
		await compat.close();
		await calls.close();
		await relay.close();
		await ctx.sessionSockets.close();
		await bus.close();
		mailer.close();
		if (ownsStorage) await rawStorage.close();
		throw err;
	}
	const port = (app.server.address() as AddressInfo).port;
	const url = listeningUrl(config.host, port);
	logger.info(
		{ url, port, storage: rawStorage.kind, bus: config.redisUrl ? 'redis' : 'memory' },
		'listening'
	);

	let closing: Promise<void> | null = null;
	const close = (): Promise<void> =>
		(closing ??= (async () => {
			logger.info({}, 'draining');
			readiness.draining = true;
			upgrade.stop();
			const httpClosed = app.close();
			// Training and compat write through the relay: they stop first, so their last writes are flushed.
			await debug.close();
			await training.close();
			await history.close();
			await compat.close();
			await calls.close();
			await relay.close();
			upgrade.wss.close();
			await httpClosed;
			await ctx.sessionSockets.close();
			await bus.close();
			mailer.close();
			if (ownsStorage) await rawStorage.close();
			logger.info({}, 'stopped');
		})());

	return { url, port, config, relay, storage, app, close };
}

async function main(): Promise<void> {
	if (process.argv.includes('--help') || process.argv.includes('-h')) {
		process.stdout.write(configHelp());
		return;
	}
	let running: RunningServer;
	try {
		running = await startServer();
	} catch (err) {
		if (err instanceof ConfigError) {
			process.stderr.write(
				`Configuration error: ${err.message}\nRun with --help to list the variables.\n`
			);
			process.exit(2);
		}
		throw err;
	}
	// With NODE_COMPILE_CACHE (npm start sets it), keep what this start compiled, so
	// the next start loads it and never loads Node's TypeScript stripper.
	flushCompileCache();
	const stop = (signal: string) => {
		running.app.log.info({ signal }, 'shutting down');
		running.close().then(
			() => process.exit(0),
			(err: unknown) => {
				running.app.log.error({ err }, 'shutdown failed');
				process.exit(1);
			}
		);
	};
	process.once('SIGTERM', () => stop('SIGTERM'));
	process.once('SIGINT', () => stop('SIGINT'));
}

if (import.meta.main) {
	main().catch((err: unknown) => {
		process.stderr.write(
			`Ensemble failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`
		);
		process.exit(1);
	});
}
