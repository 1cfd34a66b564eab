// Uploading a CSV with progress (fetch cannot report upload progress; XHR can),
// and the data set list and previews kept locally so that what was seen once
// still shows offline (under the app's local prefix: signing out removes them).

import { OFFLINE_MESSAGE } from '../api.ts';
import { readLocal, writeLocal } from '../local.ts';
import type { DatasetInfo } from './http.ts';

export interface Preview {
	dataset: DatasetInfo;
	sample: Array<Array<number | string>>;
}

function errorMessage(xhr: XMLHttpRequest): string {
	try {
		const body = JSON.parse(xhr.responseText) as { error?: { message?: unknown } };
		if (typeof body.error?.message === 'string') return body.error.message;
	} catch {
		// Not JSON (a proxy's page): say the status.
	}
	return `The upload failed (${xhr.status} ${xhr.statusText}).`;
}

/** POSTs the file as multipart `file`; `onProgress` gets the fraction sent (0–1). */
export function uploadDataset(
	workspaceId: string,
	file: File,
	onProgress: (fraction: number) => void
): Promise<DatasetInfo> {
	return new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open('POST', `/api/workspaces/${encodeURIComponent(workspaceId)}/datasets`);
		xhr.withCredentials = true;
		xhr.upload.onprogress = (e) => {
			if (e.lengthComputable) onProgress(e.loaded / e.total);
		};
		xhr.onload = () => {
			if (xhr.status === 201) {
				resolve((JSON.parse(xhr.responseText) as { dataset: DatasetInfo }).dataset);
			} else {
				reject(new Error(errorMessage(xhr)));
			}
		};
		xhr.onerror = () => reject(new Error(OFFLINE_MESSAGE));
		const form = new FormData();
		form.append('file', file, file.name);
		xhr.send(form);
	});
}

const isList = (v: unknown): v is DatasetInfo[] => Array.isArray(v);
const isPreview = (v: unknown): v is Preview =>
	typeof v === 'object' && v !== null && 'dataset' in v && Array.isArray((v as Preview).sample);

export const datasetCache = {
	list: (ws: string): DatasetInfo[] | null => readLocal(`datasets:${ws}`, isList),
	keepList: (ws: string, list: DatasetInfo[]): void => writeLocal(`datasets:${ws}`, list),
	preview: (ws: string, id: string): Preview | null => readLocal(`preview:${ws}/${id}`, isPreview),
	keepPreview: (ws: string, id: string, p: Preview): void => writeLocal(`preview:${ws}/${id}`, p)
};
