import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../server/storage/memory.ts';
import { configHelp, ConfigError, loadConfig } from '../../server/config.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let servers: TestServer[] = [];
afterEach(async () => {
	await Promise.all(servers.map((s) => s.close()));
	servers = [];
});

describe('operation', () => {
	it('[OPS1] /healthz, /readyz and /metrics answer', async () => {
		const s = await startTestServer({ memory: true });
		servers.push(s);
		const client = s.client();
		expect((await client.get('/healthz')).body).toEqual({ ok: true });
		const ready = await client.get<{ ready: boolean }>('/readyz');
		expect(ready.status).toBe(200);
		expect(ready.body.ready).toBe(true);
		await client.signup('Mo', 'mo@example.com');
		await client.createWorkspace();
		const metrics = await client.get<string>('/metrics');
		expect(metrics.status).toBe(200);
		expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
		for (const name of [
			'ensemble_connections',
			'ensemble_documents_loaded',
			'ensemble_updates_per_second',
			'ensemble_updates_stored_total',
			'ensemble_bus_messages_in_total',
			'ensemble_resyncs_total',
			'ensemble_store_latency_seconds_bucket',
			// One process on the in-memory bus publishes nothing, so only the help line shows.
			'# TYPE ensemble_bus_publish_seconds histogram'
		]) {
			expect(metrics.body).toContain(name);
		}
		expect(metrics.body).toMatch(/ensemble_store_latency_seconds_count\{op="append"\} [1-9]/);
	});

	it('[OPS1] /readyz is 503 when storage is not healthy', async () => {
		const storage = new MemoryStorage();
		let healthy = true;
		const flaky = new Proxy(storage, {
			get(target, property) {
				if (property === 'healthy') return () => Promise.resolve(healthy);
				const value: unknown = Reflect.get(target, property, target);
				return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
			}
		});
		const s = await startTestServer({ storage: flaky });
		servers.push(s);
		healthy = false;
		const reply = await s
			.client()
			.get<{ ready: boolean; checks: Record<string, boolean> }>('/readyz');
		expect(reply.status).toBe(503);
		expect(reply.body).toMatchObject({ ready: false, checks: { storage: false } });
		await storage.close();
	});

	it('[OPS1] /readyz is 503 when Redis cannot be reached; /healthz stays ok', async () => {
		const s = await startTestServer({ memory: true, redisUrl: 'redis://127.0.0.1:1' });
		servers.push(s);
		const reply = await s
			.client()
			.get<{ ready: boolean; checks: Record<string, boolean> }>('/readyz');
		expect(reply.status).toBe(503);
		expect(reply.body.checks).toMatchObject({ storage: true, redis: false });
		expect((await s.client().get('/healthz')).status).toBe(200);
	});

	it('[OPS3] configuration errors name the variable; --help lists them; SECRET is generated and kept', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'ensemble-config-'));
		try {
			expect(() => loadConfig({ PORT: 'eighty', DATA_DIR: dir })).toThrow(ConfigError);
			expect(() => loadConfig({ PORT: 'eighty', DATA_DIR: dir })).toThrow(/PORT/);
			expect(() => loadConfig({ SIGNUP: 'closed', DATA_DIR: dir })).toThrow(/SIGNUP/);
			expect(() => loadConfig({ PUBLIC_URL: 'ftp://x', DATA_DIR: dir })).toThrow(/PUBLIC_URL/);
			expect(() => loadConfig({ SECRET: 'short', DATA_DIR: dir })).toThrow(/SECRET/);
			const first = loadConfig({ DATA_DIR: dir });
			expect(first.secret.length).toBeGreaterThanOrEqual(32);
			expect((await readFile(join(dir, 'secret'), 'utf8')).trim()).toBe(first.secret);
			expect(loadConfig({ DATA_DIR: dir }).secret).toBe(first.secret);
			expect(loadConfig({ DATA_DIR: dir, PORT: '0' }).port).toBe(0);
			expect(loadConfig({ DATA_DIR: dir }).trainingCpuShare).toBe(0.25);
			expect(loadConfig({ DATA_DIR: dir, INSTANCE_ID: 'relay-2' }).instanceId).toBe('relay-2');
			expect(loadConfig({ DATA_DIR: dir, TRAINING_CPU_PERCENT: '50' }).trainingCpuShare).toBe(0.5);
			expect(() => loadConfig({ DATA_DIR: dir, TRAINING_CPU_PERCENT: '0' })).toThrow(
				/TRAINING_CPU_PERCENT/
			);
			for (const name of [
				'PORT',
				'HOST',
				'DATA_DIR',
				'DATABASE_URL',
				'REDIS_URL',
				'PUBLIC_URL',
				'SECRET',
				'SMTP_URL',
				'SIGNUP',
				'LOG_LEVEL',
				'TRAINING_CPU_PERCENT',
				'INSTANCE_ID'
			]) {
				expect(configHelp()).toContain(name);
			}
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});
});
