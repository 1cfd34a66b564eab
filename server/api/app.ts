// The Fastify application: plugins, the error shape, the Origin check on
// state-changing requests, OpenAPI, and every route. The WebSocket upgrade is
// wired separately (upgrade.ts) on the same HTTP server.

import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import { lazySchemaCompilers } from './lazySchemas.ts';
import type { Logger as PinoLogger } from 'pino';
import type { AppContext } from './context.ts';
import type { Metrics } from './metrics.ts';
import { ApiError, errorBody, makeErrorHandler } from './errors.ts';
import { originAllowed } from './authn.ts';
import { ErrorSchema } from './schemas.ts';
import { checkValue } from '../protocol/values.ts';
import { hasBuild, registerStatic } from './static.ts';
import { authRoutes } from './routes/auth.ts';
import { workspaceRoutes } from './routes/workspaces.ts';
import { memberRoutes } from './routes/members.ts';
import { inviteRoutes } from './routes/invites.ts';
import { presenceRoutes } from './routes/presence.ts';
import { chatRoutes } from './routes/chat.ts';
import { opsRoutes } from './routes/ops.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface BuildAppOptions {
	readonly ctx: AppContext;
	readonly metrics: Metrics;
	/** pino instance for request logs (its `req` serializer must drop query strings). */
	readonly httpLogger: PinoLogger;
	/** Plugins registered after the core routes (training). */
	readonly plugins?: ReadonlyArray<(app: FastifyInstance) => Promise<void>>;
}

declare module 'fastify' {
	interface FastifyInstance {
		/** Generates every route's validator and serializer now (they are lazy); returns how many. */
		compileSchemas(): number;
	}
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
	const { ctx, metrics } = options;
	// pino's own type is wider than Fastify's logger type; the instance is the same.
	const httpLogger: FastifyBaseLogger = options.httpLogger;
	const schemas = lazySchemaCompilers();
	const app = Fastify({
		loggerInstance: httpLogger,
		trustProxy: ctx.config.trustProxy,
		bodyLimit: 1024 * 1024,
		// Coerce scalars in query strings, but never turn `["x"]` into `"x"` in a body.
		ajv: { customOptions: { coerceTypes: true } },
		// Each route's validator and serializer is generated on its first request.
		schemaController: { compilersFactory: schemas.compilersFactory },
		// Ids are random; a shorter request id keeps logs readable.
		genReqId: (() => {
			let n = 0;
			return () => (++n).toString(36);
		})()
	});

	app.decorate('compileSchemas', () => schemas.compileAll());
	app.setErrorHandler(makeErrorHandler(ctx.logger));
	app.addSchema(ErrorSchema);

	// Every write path applies the same value limits before anything is stored (LIMIT7).
	app.addHook('preValidation', (request, _reply, done) => {
		const problem = checkValue(request.body);
		if (problem) done(new ApiError(400, 'value_too_deep', problem.message));
		else done();
	});

	await app.register(fastifyCookie);
	await app.register(fastifyRateLimit, {
		global: false,
		errorResponseBuilder: (_request, context) => ({
			statusCode: 429,
			message: `Too many requests; try again in ${Math.ceil(context.ttl / 1000)} s.`
		})
	});
	await app.register(fastifySwagger, {
		openapi: {
			openapi: '3.1.0',
			info: {
				title: 'Ensemble API',
				version: '0.1.0',
				description:
					'HTTP API of Ensemble. Sign in with /api/auth/login (session cookie); errors are `{error: {code, message}}`. WebSocket documents at /ws/{workspace}/{doc} (doc = params, code, live, run/{runId}).'
			},
			tags: [
				{ name: 'auth' },
				{ name: 'workspaces' },
				{ name: 'members' },
				{ name: 'seed', description: "The seed's endpoints, same paths and shapes" },
				{ name: 'operation' }
			]
		}
	});

	// A cross-site page must not make a signed-in browser change anything (on top of SameSite=Lax).
	// Every state-changing request is checked, whatever its path: the router decodes
	// `/%61pi/…` to `/api/…`, so a test of the raw path would let such spellings through (SEC1).
	app.addHook('onRequest', (request, _reply, done) => {
		if (SAFE_METHODS.has(request.method)) return done();
		if (originAllowed(request.headers, ctx.config.publicUrl)) return done();
		done(
			new ApiError(
				403,
				'bad_origin',
				'This request came from another site (Origin does not match).'
			)
		);
	});

	// Invitation links carry their token in the query string: never send it on as a Referer.
	app.addHook('onSend', (_request, reply, payload, done) => {
		void reply.header('x-content-type-options', 'nosniff');
		void reply.header('referrer-policy', 'same-origin');
		void reply.header('x-frame-options', 'DENY');
		done(null, payload);
	});

	const authRateLimit =
		ctx.config.authRateLimit > 0 ? { max: ctx.config.authRateLimit, timeWindow: 60_000 } : false;
	authRoutes(app, ctx, authRateLimit);
	workspaceRoutes(app, ctx);
	memberRoutes(app, ctx);
	inviteRoutes(app, ctx);
	presenceRoutes(app, ctx);
	chatRoutes(app, ctx);
	opsRoutes(app, ctx, metrics);
	for (const plugin of options.plugins ?? []) await plugin(app);

	app.get('/api/openapi.json', { schema: { hide: true } }, () => app.swagger());

	const spa = hasBuild(ctx.config.staticDir);
	if (spa) await registerStatic(app, ctx.config.staticDir);
	app.setNotFoundHandler((request, reply) => {
		const path = request.url.split('?')[0] ?? '';
		if (spa && request.method === 'GET' && !path.startsWith('/api/') && !path.startsWith('/ws/')) {
			return reply.type('text/html').sendFile('index.html');
		}
		return reply.status(404).send(errorBody('not_found', `No route ${request.method} ${path}.`));
	});
	return app;
}
