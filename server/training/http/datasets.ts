// Data sets: upload a CSV (multipart, field `file`), list, preview, delete.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errors } from '../../api/schemas.ts';
import type { AppContext } from '../../api/context.ts';
import type { TrainingService } from '../service.ts';
import { badRequest, TrainingError } from '../errors.ts';
import { authorize } from './auth.ts';
import { DatasetParams, DatasetSchema, WorkspaceParams } from './schemas.ts';

const tags = ['training'];
const Cell = Type.Union([Type.Number(), Type.String()]);

/** A file name shown to people: the upload's base name, without path or control characters. */
function datasetName(filename: string | undefined): string {
	const base = (filename ?? '').split(/[\\/]/).pop() ?? '';
	const clean = base
		.replace(/[\p{Cc}]/gu, '')
		.trim()
		.slice(0, 200);
	return clean || 'data.csv';
}

export function datasetRoutes(
	app: FastifyInstance,
	ctx: AppContext,
	service: TrainingService
): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();
	const auth = authorize.bind(null, ctx, service.apiKeys);

	api.post(
		'/api/workspaces/:id/datasets',
		{
			schema: {
				tags,
				summary: 'Upload a CSV data set (multipart/form-data, the file in the field "file")',
				consumes: ['multipart/form-data'],
				params: WorkspaceParams,
				response: {
					201: Type.Object({ dataset: DatasetSchema }),
					...errors(400, 401, 403, 404, 413, 415)
				}
			}
		},
		async (request, reply) => {
			const caller = await auth(request, request.params.id, 'upload_data', { allowKey: false });
			if (!request.isMultipart()) {
				throw new TrainingError(
					415,
					'invalid_request',
					'Send the CSV as multipart/form-data with the file in the field "file".'
				);
			}
			const file = await request.file({
				limits: { fileSize: service.datasets.maxBytes + 1, files: 1 }
			});
			if (!file) throw badRequest('The form has no file: send the CSV in the field "file".');
			if (file.fieldname !== 'file')
				throw badRequest(`The file must be in the field "file", not "${file.fieldname}".`);
			const tooLarge = () =>
				new TrainingError(
					413,
					'invalid_csv',
					`${datasetName(file.filename)}: the file is too large; at most ${service.datasets.maxBytes} bytes are allowed`
				);
			const content = await file.toBuffer().catch((err: unknown) => {
				throw (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' ? tooLarge() : err;
			});
			// The limit is one byte over the maximum, so a truncated file is always detected here.
			if (file.file.truncated || content.byteLength > service.datasets.maxBytes) throw tooLarge();
			const dataset = await service.uploadDataset(
				caller.workspace,
				datasetName(file.filename),
				content,
				caller.userId
			);
			ctx.logger.info(
				{ workspace: caller.workspace, dataset: dataset.id, rows: dataset.rows },
				'data set uploaded'
			);
			return reply.status(201).send({ dataset });
		}
	);

	api.get(
		'/api/workspaces/:id/datasets',
		{
			schema: {
				tags,
				summary: 'The bundled Iris and every uploaded data set, with columns and types',
				params: WorkspaceParams,
				response: {
					200: Type.Object({ datasets: Type.Array(DatasetSchema) }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'view_workspace');
			return { datasets: await service.datasets.list(caller.workspace) };
		}
	);

	api.get(
		'/api/workspaces/:id/datasets/:datasetId',
		{
			schema: {
				tags,
				summary: 'A data set with its first rows (preview)',
				params: DatasetParams,
				querystring: Type.Object({
					rows: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 }))
				}),
				response: {
					200: Type.Object({ dataset: DatasetSchema, sample: Type.Array(Type.Array(Cell)) }),
					...errors(400, 401, 403, 404)
				}
			}
		},
		async (request) => {
			const caller = await auth(request, request.params.id, 'view_workspace');
			const { sample, ...dataset } = await service.datasets.preview(
				caller.workspace,
				request.params.datasetId,
				request.query.rows ?? 20
			);
			return { dataset, sample };
		}
	);

	api.delete(
		'/api/workspaces/:id/datasets/:datasetId',
		{
			schema: {
				tags,
				summary:
					'Delete an uploaded data set (owners and editors; 409 while a queued or running run uses it)',
				params: DatasetParams,
				response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) }
			}
		},
		async (request, reply) => {
			const caller = await auth(request, request.params.id, 'upload_data', { allowKey: false });
			await service.removeDataset(caller.workspace, request.params.datasetId, caller.userId);
			return reply.status(204).send(null);
		}
	);
}
