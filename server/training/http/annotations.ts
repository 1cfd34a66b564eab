// Annotations on a chart point: any member; the server stamps who and when.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errors } from '../../api/schemas.ts';
import type { AppContext } from '../../api/context.ts';
import type { TrainingService } from '../service.ts';
import { authorize } from './auth.ts';
import { AnnotationSchema, Id, WorkspaceParams } from './schemas.ts';

export function annotationRoutes(
	app: FastifyInstance,
	ctx: AppContext,
	service: TrainingService
): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();

	api.post(
		'/api/workspaces/:id/annotations',
		{
			schema: {
				tags: ['training'],
				summary: 'Annotate a point of a run chart (run, step, metric) for everyone',
				params: WorkspaceParams,
				body: Type.Object({
					run: Id,
					step: Type.Number({ minimum: 0 }),
					metric: Type.String({ minLength: 1, maxLength: 64 }),
					text: Type.String({ minLength: 1, maxLength: 2000, pattern: '\\S' })
				}),
				response: {
					201: Type.Object({ annotation: AnnotationSchema }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request, reply) => {
			const caller = await authorize(
				ctx,
				service.apiKeys,
				request,
				request.params.id,
				'view_workspace',
				{
					allowKey: false
				}
			);
			const annotation = await service.annotate(
				caller.workspace,
				caller.actor,
				caller.userId,
				request.body
			);
			return reply.status(201).send({ annotation });
		}
	);
}
