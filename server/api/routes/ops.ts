// Operator endpoints: liveness, readiness and Prometheus metrics.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../context.ts';
import type { Metrics } from '../metrics.ts';

const READY_TIMEOUT_MS = 2000;

function withTimeout(check: () => Promise<boolean>): Promise<boolean> {
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
		check().then(
			(ok) => {
				clearTimeout(timer);
				resolve(ok);
			},
			() => {
				clearTimeout(timer);
				resolve(false);
			}
		);
	});
}

export function opsRoutes(app: FastifyInstance, ctx: AppContext, metrics: Metrics): void {
	const api = app.withTypeProvider<TypeBoxTypeProvider>();

	api.get(
		'/healthz',
		{
			schema: {
				tags: ['operation'],
				summary: 'The process is up',
				response: { 200: Type.Object({ ok: Type.Boolean() }) }
			}
		},
		() => ({ ok: true })
	);

	api.get(
		'/readyz',
		{
			schema: {
				tags: ['operation'],
				summary: 'Ready for traffic: not draining, storage (and Redis) reachable',
				response: {
					200: Type.Object({
						ready: Type.Boolean(),
						checks: Type.Record(Type.String(), Type.Boolean())
					}),
					503: Type.Object({
						ready: Type.Boolean(),
						checks: Type.Record(Type.String(), Type.Boolean())
					})
				}
			}
		},
		async (_request, reply) => {
			const entries = [
				{ name: 'storage', check: () => ctx.storage.healthy() },
				...ctx.readiness.checks
			];
			const results = await Promise.all(entries.map((e) => withTimeout(e.check)));
			const checks: Record<string, boolean> = { draining: ctx.readiness.draining };
			entries.forEach((e, i) => (checks[e.name] = results[i] ?? false));
			const ready = !ctx.readiness.draining && results.every(Boolean);
			return reply.status(ready ? 200 : 503).send({ ready, checks });
		}
	);

	app.get(
		'/metrics',
		{ schema: { tags: ['operation'], summary: 'Prometheus metrics' } },
		async (_request, reply) => {
			const text = await metrics.registry.metrics();
			return reply.type(metrics.registry.contentType).send(text);
		}
	);
}
