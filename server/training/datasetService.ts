// The workspace's data sets: the bundled Iris plus checked CSV uploads kept in
// storage. Parsed tables are cached by id (uploads never change after upload);
// what the listing shows (rows, columns, types) is kept apart and much longer,
// so listing 24 uploads does not parse 24 files (SEC7). Each workspace's
// uploads share a quota of bytes.

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
/** Listing summaries kept (a few hundred bytes each; columns up to the CSV limit). */
const SUMMARY_CACHE_SIZE = 10_000;
const DEFAULT_DATASET_QUOTA_BYTES = 100 * 1024 * 1024;

/** What the listing needs of a parsed table. */
interface Summary {
	readonly rowCount: number;
	readonly columns: Table['columns'];
}

export class DatasetService {
	readonly #storage: Storage;
	readonly #clock: Clock;
	readonly #limits: CsvLimits;
	readonly #quotaBytes: number;
	readonly #cache = new Map<string, Table>();
	readonly #summaries = new Map<string, Summary>();

	constructor(
		storage: Storage,
		clock: Clock,
		limits: CsvLimits = DEFAULT_CSV_LIMITS,
		quotaBytes = DEFAULT_DATASET_QUOTA_BYTES
	) {
		this.#storage = storage;
		this.#clock = clock;
		this.#limits = limits;
		this.#quotaBytes = quotaBytes;
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
		// Two uploads at once may both pass and go over by one file: the quota bounds growth, not bytes exactly.
		const used = (await this.#storage.listDatasets(workspace)).reduce((n, d) => n + d.bytes, 0);
		if (used + content.byteLength > this.#quotaBytes) {
			throw new TrainingError(
				413,
				'quota_exceeded',
				`${name}: this workspace's data sets would take ${mb(used + content.byteLength)} of its ${mb(this.#quotaBytes)}; delete a data set first (the operator sets the quota with DATASET_QUOTA_MB)`
			);
		}
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
			const summary =
				this.#summaries.get(`${workspace}/${d.id}`) ?? (await this.table(workspace, d.id)).table;
			out.push(describe(d.id, d.name, false, summary, d.bytes, d.createdAt, d.createdBy));
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
		this.#summaries.delete(`${workspace}/${id}`);
	}

	/** A data set as a CSV file (uploads as uploaded; the bundled Iris written out), or 404. */
	async csv(workspace: WorkspaceId, id: string): Promise<{ name: string; csv: Uint8Array }> {
		if (id === IRIS_ID) {
			const table = irisTable();
			const lines = [table.columns.map((c) => c.name).join(',')];
			for (let r = 0; r < table.rowCount; r++) {
				lines.push(table.values.map((column) => String(column[r])).join(','));
			}
			return { name: 'iris.csv', csv: new TextEncoder().encode(`${lines.join('\n')}\n`) };
		}
		const found = await this.#storage.getDataset(workspace, id);
		if (!found) throw notFound(`No data set with id "${id}" in this workspace.`);
		return { name: found.dataset.name, csv: found.content };
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
		boundedSet(this.#cache, key, table, CACHE_SIZE);
		boundedSet(
			this.#summaries,
			key,
			{ rowCount: table.rowCount, columns: table.columns },
			SUMMARY_CACHE_SIZE
		);
	}
}

/** Sets `key` as the newest entry, dropping the oldest beyond `max`. */
function boundedSet<V>(map: Map<string, V>, key: string, value: V, max: number): void {
	map.delete(key);
	map.set(key, value);
	while (map.size > max) {
		const oldest = map.keys().next().value;
		if (oldest === undefined) break;
		map.delete(oldest);
	}
}

function mb(bytes: number): string {
	return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function describe(
	id: string,
	name: string,
	bundled: boolean,
	table: Summary,
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
