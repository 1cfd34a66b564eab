// The training part's public surface, for server/main.ts and tests.

export { TrainingService, type TrainingServiceOptions, type StartResult } from './service.ts';
export { trainingRoutes, trainingPlugin, type TrainingRoutesOptions } from './routes.ts';
export { TrainingError } from './errors.ts';
