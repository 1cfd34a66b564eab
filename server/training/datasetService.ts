// The workspace's data sets: the bundled Iris plus checked CSV uploads kept in
// storage. Parsed tables are cached by id (uploads never change after upload).

import { newId, type UserId, type WorkspaceId } from '../protocol/ids.ts';
import type { Clock } from '../runtime.ts';
import type { Storage } from '../storage/types.ts';
import {
	DEFAULT_CSV_LIMITS,
	headRows,
	type ColumnType,
	type CsvLimits,
	type Table
} from './csv.ts';
import { parseCsvOffThread } from './parseOffThread.ts';
import { IRIS_ID, IRIS_NAME, IRIS_TARGET, irisTable } from './datasets.ts';
import { notFound, TrainingError } from './errors.ts';

export interface DatasetInfo {
	id: string;
	name: string;
	bundled: boolean;
	rows: number;
	columns: Array<{ name: string; type: ColumnType; distinct: number }>;
	/** The column to predict when the user has not picked one. */
	default_target: string;
	bytes: number;
	created_at: number;
	created_by: string | null;
}

export interface Preview extends DatasetInfo {
	sample: Array<Array<number | string>>;
}

const CACHE_SIZE = 16;

export class DatasetService {
	readonly #storage: Storage;
	readonly #clock: Clock;
	readonly #limits: CsvLimits;
	readonly #cache = new Map<string, Table>();

	constructor(storage: Storage, clock: Clock, limits: CsvLimits = DEFAULT_CSV_LIMITS) {
		this.#storage = storage;
		this.#clock = clock;
		this.#limits = limits;
	}

	get maxBytes(): number {
		return this.#limits.maxBytes;
	}

	async upload(
		workspace: WorkspaceId,
		name: string,
		content: Uint8Array,
		by: UserId
	): Promise<DatasetInfo> {
		const parsed = await parseCsvOffThread(content, this.#limits);
		if (!parsed.ok) throw new TrainingError(400, 'invalid_csv', `${name}: ${parsed.message}`);
		const dataset = {
			id: newId() as string,
			workspace,
			name,
			createdBy: by,
			createdAt: this.#clock.now(),
			bytes: content.byteLength
		};
		await this.#storage.putDataset(dataset, content);
		this.#remember(`${workspace}/${dataset.id}`, parsed.value);
		return describe(dataset.id, name, false, parsed.value, dataset.bytes, dataset.createdAt, by);
	}

	async list(workspace: WorkspaceId): Promise<DatasetInfo[]> {
		const stored = await this.#storage.listDatasets(workspace);
		const out = [describe(IRIS_ID, IRIS_NAME, true, irisTable(), 0, 0, null)];
		for (const d of stored) {
			const table = await this.table(workspace, d.id);
			out.push(describe(d.id, d.name, false, table.table, d.bytes, d.createdAt, d.createdBy));
		}
		return out;
	}

	async preview(workspace: WorkspaceId, id: string, rows: number): Promise<Preview> {
		const { table, info } = await this.table(workspace, id);
		return { ...info, sample: headRows(table, rows) };
	}

	async remove(workspace: WorkspaceId, id: string): Promise<void> {
		if (id === IRIS_ID)
			throw new TrainingError(
				400,
				'invalid_request',
				'The bundled Iris data set cannot be deleted.'
			);
		if (!(await this.#storage.deleteDataset(workspace, id)))
			throw notFound(`No data set with id "${id}".`);
		this.#cache.delete(`${workspace}/${id}`);
	}

	/** The checked table of a data set, or 404. */
	async table(workspace: WorkspaceId, id: string): Promise<{ table: Table; info: DatasetInfo }> {
		if (id === IRIS_ID) {
			const table = irisTable();
			return { table, info: describe(IRIS_ID, IRIS_NAME, true, table, 0, 0, null) };
		}
		const found = await this.#storage.getDataset(workspace, id);
		if (!found) throw notFound(`No data set with id "${id}" in this workspace.`);
		const { dataset, content } = found;
		const cacheKey = `${workspace}/${id}`;
		let table = this.#cache.get(cacheKey);
		if (!table) {
			const parsed = await parseCsvOffThread(content, this.#limits);
			// It was checked at upload; failing now means the limits changed since.
			if (!parsed.ok)
				throw new TrainingError(400, 'invalid_csv', `${dataset.name}: ${parsed.message}`);
			this.#remember(cacheKey, parsed.value);
			table = parsed.value;
		}
		return {
			table,
			info: describe(
				id,
				dataset.name,
				false,
				table,
				dataset.bytes,
				dataset.createdAt,
				dataset.createdBy
			)
		};
	}

	#remember(key: string, table: Table): void {
		this.#cache.delete(key);
		this.#cache.set(key, table);
		while (this.#cache.size > CACHE_SIZE) {
			const oldest = this.#cache.keys().next().value;
			if (oldest === undefined) break;
			this.#cache.delete(oldest);
		}
	}
}

function describe(
	id: string,
	name: string,
	bundled: boolean,
	table: Table,
	bytes: number,
	createdAt: number,
	createdBy: string | null
): DatasetInfo {
	const text = table.columns.find((c) => c.type === 'text');
	const last = table.columns[table.columns.length - 1];
	return {
		id,
		name,
		bundled,
		rows: table.rowCount,
		columns: table.columns.map((c) => ({ ...c })),
		default_target: bundled ? IRIS_TARGET : (text?.name ?? last?.name ?? ''),
		bytes,
		created_at: createdAt,
		created_by: createdBy
	};
}
