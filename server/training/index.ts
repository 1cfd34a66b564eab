// The training part's public surface, for server/main.ts and tests.

export { TrainingService } from './service.ts';
export { sandboxExecutor } from './sandbox.ts';
export { trainingPlugin } from './routes.ts';
/** @public The same routes as a plain Fastify plugin: `app.register(trainingRoutes, { ctx, service })`. */
export { trainingRoutes } from './routes.ts';
/** @public */
export type { TrainingServiceOptions, StartResult } from './service.ts';
/** @public */
export type { TrainingRoutesOptions } from './routes.ts';
