// The training endpoints as one Fastify plugin, in its own encapsulated scope:
// multipart parsing and the mapping of training errors to `{error: {code, message}}`
// apply to these routes only.

import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fastifyMultipart from '@fastify/multipart';
import type { AppContext } from '../api/context.ts';
import { errorBody, makeErrorHandler } from '../api/errors.ts';
import { TrainingError } from './errors.ts';
import type { TrainingService } from './service.ts';
import { agentRoutes } from './http/agents.ts';
import { annotationRoutes } from './http/annotations.ts';
import { datasetRoutes } from './http/datasets.ts';
import { keyRoutes } from './http/keys.ts';
import { runRoutes } from './http/runs.ts';
import { sweepRoutes } from './http/sweeps.ts';

export interface TrainingRoutesOptions {
	readonly ctx: AppContext;
	readonly service: TrainingService;
}

/** Register with `app.register(trainingRoutes, { ctx, service })`. */
export const trainingRoutes: FastifyPluginAsync<TrainingRoutesOptions> = async (
	app,
	{ ctx, service }
) => {
	const fallback = makeErrorHandler(ctx.logger);
	app.setErrorHandler((error: Error, request, reply) => {
		if (error instanceof TrainingError) {
			return reply.status(error.status).send(errorBody(error.code, error.message));
		}
		return fallback(error, request, reply);
	});
	await app.register(fastifyMultipart, {
		limits: { files: 1, fields: 10, fileSize: service.datasets.maxBytes + 1 }
	});
	runRoutes(app, ctx, service);
	agentRoutes(app, ctx, service);
	datasetRoutes(app, ctx, service);
	keyRoutes(app, ctx, service);
	annotationRoutes(app, ctx, service);
	sweepRoutes(app, ctx, service);
};

/** The same, in the shape of buildApp's `plugins` option. */
export function trainingPlugin(
	ctx: AppContext,
	service: TrainingService
): (app: FastifyInstance) => Promise<void> {
	return async (app) => {
		await app.register(trainingRoutes, { ctx, service });
	};
}
