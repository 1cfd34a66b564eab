// Report training runs to an Ensemble workspace from TypeScript/JavaScript (Node 18+,
// Deno, Bun or a browser): fetch only, no dependencies. Authenticated with a
// workspace API key. Example:
//
//   const client = new EnsembleClient({ url: 'http://localhost:8000', workspace, apiKey });
//   const hp = await client.hyperparameters();
//   const run = await client.createRun({ name: 'tfjs on laptop', params: hp });
//   for (let epoch = 1; epoch <= Number(hp.epochs); epoch++) {
//     run.log({ step: epoch, values: { loss, accuracy } });
//   }
//   await run.finish('completed');

import type { RunRecord } from '../../server/protocol/training.ts';

export type Scalar = number | string | boolean;

export interface MetricInput {
	/** The x axis (epoch or batch index). */
	step: number;
	kind?: 'epoch' | 'batch';
	epoch?: number;
	/** Defaults to the time since the run was created. */
	elapsed_ms?: number;
	values: Record<string, number>;
}

export interface ClientOptions {
	url: string;
	workspace: string;
	apiKey: string;
	/** Points are posted at most this often (default 500 ms). */
	flushIntervalMs?: number;
	fetch?: typeof fetch;
}

export class EnsembleError extends Error {
	readonly status: number;
	readonly code: string;

	constructor(status: number, code: string, message: string) {
		super(`${status} ${code}: ${message}`);
		this.status = status;
		this.code = code;
	}
}

const MAX_POINTS_PER_POST = 1000;

export class EnsembleClient {
	readonly #base: string;
	readonly #apiKey: string;
	readonly #fetch: typeof fetch;
	readonly flushIntervalMs: number;

	constructor(options: ClientOptions) {
		this.#base = `${options.url.replace(/\/+$/, '')}/api/workspaces/${encodeURIComponent(options.workspace)}`;
		this.#apiKey = options.apiKey;
		this.#fetch = options.fetch ?? fetch;
		this.flushIntervalMs = options.flushIntervalMs ?? 500;
	}

	/** @internal */
	async request<T>(method: string, path: string, body?: unknown): Promise<T> {
		const headers: Record<string, string> = { authorization: `Bearer ${this.#apiKey}` };
		if (body !== undefined) headers['content-type'] = 'application/json';
		const res = await this.#fetch(this.#base + path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		const text = await res.text();
		const parsed: unknown = text ? JSON.parse(text) : null;
		if (!res.ok) {
			const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
			throw new EnsembleError(res.status, error?.code ?? 'http_error', error?.message ?? text);
		}
		return parsed as T;
	}

	async hyperparameters(): Promise<Record<string, unknown>> {
		return (
			await this.request<{ hyperparameters: Record<string, unknown> }>('GET', '/hyperparameters')
		).hyperparameters;
	}

	async codeFiles(): Promise<Record<string, string>> {
		return (await this.request<{ files: Record<string, string> }>('GET', '/code')).files;
	}

	/** Creates a run everyone in the workspace sees; `params` default to the current ones. */
	async createRun(
		options: {
			name?: string;
			params?: Record<string, unknown>;
			code?: Record<string, string>;
			dataset?: string;
			target?: string;
		} = {}
	): Promise<ReportedRun> {
		const { params, ...rest } = options;
		const body: Record<string, unknown> = { ...rest };
		if (params) {
			body.params = Object.fromEntries(
				Object.entries(params).filter(
					([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'
				)
			);
		}
		const { run } = await this.request<{ run: RunRecord }>('POST', '/external-runs', body);
		return new ReportedRun(this, run);
	}
}

/** A run being reported: `log` buffers, points are posted in batches. */
export class ReportedRun {
	readonly id: string;
	readonly record: RunRecord;
	readonly #client: EnsembleClient;
	readonly #started = Date.now();
	#pending: MetricInput[] = [];
	#timer: ReturnType<typeof setTimeout> | null = null;
	#posting: Promise<void> = Promise.resolve();
	#error: Error | null = null;

	constructor(client: EnsembleClient, record: RunRecord) {
		this.#client = client;
		this.record = record;
		this.id = record.id;
	}

	log(point: MetricInput): void {
		this.#pending.push({ elapsed_ms: Date.now() - this.#started, ...point });
		this.#timer ??= setTimeout(() => {
			this.#timer = null;
			this.flush().catch((err: unknown) => {
				this.#error ??= err instanceof Error ? err : new Error(String(err));
			});
		}, this.#client.flushIntervalMs);
	}

	/** Posts what is buffered; resolves when everything logged so far is on the server. */
	flush(): Promise<void> {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		const points = this.#pending;
		this.#pending = [];
		// A failed earlier post was reported to its caller; it does not block later ones.
		this.#posting = this.#posting
			.catch(() => undefined)
			.then(async () => {
				for (let i = 0; i < points.length; i += MAX_POINTS_PER_POST) {
					await this.#client.request('POST', `/runs/${this.id}/metrics`, {
						points: points.slice(i, i + MAX_POINTS_PER_POST)
					});
				}
			});
		return this.#posting;
	}

	/** Ends the run; a background post that failed earlier is thrown here. */
	async finish(
		status: 'completed' | 'failed' | 'stopped' = 'completed',
		options: { message?: string; output?: string[] } = {}
	): Promise<RunRecord> {
		await this.flush();
		const { run } = await this.#client.request<{ run: RunRecord }>(
			'POST',
			`/runs/${this.id}/status`,
			{
				status,
				...options
			}
		);
		if (this.#error) throw this.#error;
		return run;
	}
}
