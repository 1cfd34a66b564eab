// The training endpoints as the app calls them (same origin, session cookie).
// Errors carry the server's message, which says what to do.

import type { Annotation, RunRecord } from '$shared/training.ts';
import { OFFLINE_MESSAGE } from '../api.ts';

export interface ColumnInfo {
	name: string;
	type: 'number' | 'text';
	distinct: number;
}

export interface DatasetInfo {
	id: string;
	name: string;
	bundled: boolean;
	rows: number;
	columns: ColumnInfo[];
	default_target: string;
	bytes: number;
	created_at: number;
	created_by: string | null;
}

export class TrainingApiError extends Error {
	readonly status: number;
	constructor(status: number, message: string) {
		super(message);
		this.status = status;
	}
}

async function call<T>(method: string, path: string, body?: BodyInit | object): Promise<T> {
	const isForm = body instanceof FormData;
	let response: Response;
	try {
		response = await fetch(path, {
			method,
			credentials: 'same-origin',
			headers: body === undefined || isForm ? {} : { 'content-type': 'application/json' },
			body: body === undefined ? undefined : isForm ? body : JSON.stringify(body)
		});
	} catch (err) {
		console.warn(`ensemble: ${method} ${path} did not reach the server`, err);
		throw new TrainingApiError(0, OFFLINE_MESSAGE);
	}
	const text = await response.text();
	let data: unknown = null;
	try {
		data = text ? JSON.parse(text) : null;
	} catch {
		data = null;
	}
	if (!response.ok) {
		const message = (data as { error?: { message?: string } } | null)?.error?.message;
		throw new TrainingApiError(
			response.status,
			message ?? `${response.status} ${response.statusText}`
		);
	}
	return data as T;
}

const base = (ws: string) => `/api/workspaces/${encodeURIComponent(ws)}`;

/** Where a person can ask a run to go (`external` runs come from scripts, not from Start). */
export type RunnerChoice = 'server' | 'agent' | 'builtin';

export interface Availability {
	available: boolean;
	reason: string | null;
}

/** `GET /runners`: which runners this server offers, and why one is not available. */
export interface Runners {
	default: 'server' | 'builtin';
	server: Availability;
	builtin: Availability;
}

export interface StartBody {
	dataset?: string;
	target?: string;
	runner?: RunnerChoice;
	agent?: string;
}

export interface StartResult {
	run: RunRecord;
	queued: boolean;
	message: string;
}

export const trainingApi = {
	start: (ws: string, body: StartBody) => call<StartResult>('POST', `${base(ws)}/runs`, body),
	stop: (ws: string, runId: string) =>
		call<{ run: RunRecord }>('POST', `${base(ws)}/runs/${runId}/stop`),
	requeue: (ws: string, runId: string) =>
		call<StartResult>('POST', `${base(ws)}/runs/${runId}/requeue`),
	runners: (ws: string) => call<Runners>('GET', `${base(ws)}/runners`),
	annotate: (ws: string, body: { run: string; step: number; metric: string; text: string }) =>
		call<{ annotation: Annotation }>('POST', `${base(ws)}/annotations`, body),
	datasets: (ws: string) => call<{ datasets: DatasetInfo[] }>('GET', `${base(ws)}/datasets`),
	preview: (ws: string, id: string, rows = 20) =>
		call<{ dataset: DatasetInfo; sample: Array<Array<number | string>> }>(
			'GET',
			`${base(ws)}/datasets/${encodeURIComponent(id)}?rows=${rows}`
		),
	remove: (ws: string, id: string) =>
		call<null>('DELETE', `${base(ws)}/datasets/${encodeURIComponent(id)}`)
};
