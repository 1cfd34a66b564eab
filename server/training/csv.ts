// Uploaded CSV files: parsed and checked once, so a bad file is refused at upload
// with a message that says what is wrong and where (line, column), never later in
// a worker. Line numbers count the header as line 1, as an editor shows them.

import { parse } from 'csv-parse/sync';
import type { ParseResult } from './hyperparameters.ts';

export interface CsvLimits {
	readonly maxBytes: number;
	readonly maxRows: number;
	readonly maxColumns: number;
}

export const DEFAULT_CSV_LIMITS: CsvLimits = {
	maxBytes: 10 * 1024 * 1024,
	maxRows: 200_000,
	maxColumns: 500
};

export type ColumnType = 'number' | 'text';

export interface Column {
	readonly name: string;
	readonly type: ColumnType;
	/** Distinct values (counted up to 1,001), to tell the user which columns can be a target. */
	readonly distinct: number;
}

/**
 * A checked table, by column: a numeric column is a Float64Array (transferred
 * from the parsing worker without copying), a text column an array of strings.
 */
export interface Table {
	readonly columns: readonly Column[];
	readonly rowCount: number;
	readonly values: ReadonlyArray<Float64Array | readonly string[]>;
}

/** The first `n` rows, row by row (for previews). */
export function headRows(table: Table, n: number): Array<Array<number | string>> {
	const rows: Array<Array<number | string>> = [];
	for (let r = 0; r < Math.min(n, table.rowCount); r++) {
		rows.push(table.values.map((column) => column[r] ?? ''));
	}
	return rows;
}

interface ParsedRecord {
	record: string[];
	info: { lines: number };
}

function isNumeric(cell: string): boolean {
	return cell !== '' && Number.isFinite(Number(cell));
}

function fail(message: string): { ok: false; message: string } {
	return { ok: false, message };
}

/** A file with many problems lists this many (and how many more), so one fix-and-retry fixes them all. */
export const MAX_LISTED_PROBLEMS = 20;

/** The row and cell problems of one file, gathered rather than stopping at the first. */
class Problems {
	readonly list: string[] = [];
	more = 0;

	add(problem: string): void {
		if (this.list.length < MAX_LISTED_PROBLEMS) this.list.push(problem);
		else this.more++;
	}

	/** One problem is said as it is; several are counted and listed. */
	result(): { ok: false; message: string } | null {
		if (this.list.length === 0) return null;
		if (this.list.length === 1) return fail(this.list[0]!);
		const total = this.list.length + this.more;
		const rest = this.more > 0 ? `; and ${this.more} more` : '';
		return fail(`${total} problems: ${this.list.join('; ')}${rest}`);
	}
}

function decode(bytes: Uint8Array): ParseResult<string> {
	try {
		return { ok: true, value: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
	} catch (_err) {
		// The decoder does not say where; find the first bad byte's line for the message.
		const text = new TextDecoder('utf-8').decode(bytes);
		const line = text.slice(0, text.indexOf('\uFFFD')).split('\n').length;
		return fail(`the file is not UTF-8 text (line ${line} has bytes that are not)`);
	}
}

function records(text: string): ParseResult<ParsedRecord[]> {
	try {
		// csv-parse types `info: true` results as string[][]; they are {record, info}.
		const parsed = parse(text, {
			bom: true,
			trim: true,
			skip_empty_lines: true,
			relax_column_count: true,
			info: true
		}) as unknown as ParsedRecord[];
		return { ok: true, value: parsed };
	} catch (err) {
		const e = err as { message?: string; lines?: number };
		const where = typeof e.lines === 'number' ? `line ${e.lines}: ` : '';
		return fail(`${where}the file is not valid CSV (${e.message ?? String(err)})`);
	}
}

function checkHeader(header: readonly string[], limits: CsvLimits): string | null {
	if (header.length < 2) {
		return 'the header has fewer than 2 columns: a data set needs at least one feature and a target (is the file comma-separated?)';
	}
	if (header.length > limits.maxColumns) {
		return `the file has ${header.length} columns; at most ${limits.maxColumns} are allowed`;
	}
	if (header.every(isNumeric)) {
		return 'line 1 looks like data, not a header: the first line must name the columns (for example sepal_length,sepal_width,species)';
	}
	const seen = new Map<string, number>();
	for (const [i, name] of header.entries()) {
		if (name === '') return `line 1: column ${i + 1} has no name in the header`;
		const before = seen.get(name);
		if (before !== undefined) {
			return `line 1: the column name '${name}' appears twice (columns ${before + 1} and ${i + 1}); names must be unique`;
		}
		seen.set(name, i);
	}
	return null;
}

/** Types each column; a column that is mostly numbers but has a stray word is an error, not text. */
function typeColumns(
	header: readonly string[],
	body: readonly ParsedRecord[],
	problems: Problems
): Column[] {
	const columns: Column[] = [];
	const textColumns: string[] = [];
	for (const [c, name] of header.entries()) {
		let numeric = 0;
		const texts: ParsedRecord[] = [];
		const distinct = new Set<string>();
		for (const row of body) {
			const cell = row.record[c] ?? '';
			if (isNumeric(cell)) numeric++;
			else if (cell !== '') texts.push(row);
			if (distinct.size <= 1000) distinct.add(cell);
		}
		const firstText = texts[0] ?? null;
		// Mostly numbers (empty cells are reported on their own): the words are mistakes.
		if (firstText && numeric > texts.length) {
			for (const row of texts) {
				problems.add(
					`line ${row.info.lines}, column '${name}': '${row.record[c] ?? ''}' is not a number (the other values of this column are numbers)`
				);
			}
			columns.push({ name, type: 'number', distinct: distinct.size });
			continue;
		}
		const type: ColumnType = firstText ? 'text' : 'number';
		if (type === 'text') textColumns.push(name);
		columns.push({ name, type, distinct: distinct.size });
	}
	if (textColumns.length > 1) {
		problems.add(
			`non-numeric features: the columns ${textColumns.map((n) => `'${n}'`).join(', ')} hold text; features must be numbers and only one column (the target) may hold text`
		);
	}
	return columns;
}

export function parseCsv(
	bytes: Uint8Array,
	limits: CsvLimits = DEFAULT_CSV_LIMITS
): ParseResult<Table> {
	if (bytes.byteLength > limits.maxBytes) {
		return fail(
			`the file is too large: ${bytes.byteLength} bytes, at most ${limits.maxBytes} are allowed`
		);
	}
	const text = decode(bytes);
	if (!text.ok) return text;
	if (text.value.trim() === '') return fail('the file is empty');
	const parsed = records(text.value);
	if (!parsed.ok) return parsed;
	const [first, ...body] = parsed.value;
	if (!first) return fail('the file is empty');
	const header = first.record;
	const headerError = checkHeader(header, limits);
	if (headerError) return fail(headerError);
	if (body.length === 0) return fail('the file has a header but no data rows');
	if (body.length > limits.maxRows) {
		return fail(`the file has ${body.length} data rows; at most ${limits.maxRows} are allowed`);
	}
	const problems = new Problems();
	for (const row of body) {
		if (row.record.length !== header.length) {
			problems.add(
				`line ${row.info.lines} has ${row.record.length} fields but the header has ${header.length} columns`
			);
			continue;
		}
		for (const [c, cell] of row.record.entries()) {
			if (cell !== '') continue;
			problems.add(
				`line ${row.info.lines}, column '${header[c]}': the value is empty (missing values are not supported)`
			);
		}
	}
	const columns = typeColumns(header, body, problems);
	const refused = problems.result();
	if (refused) return refused;
	const values = columns.map((column, c) =>
		column.type === 'number'
			? Float64Array.from(body, (row) => Number(row.record[c]))
			: body.map((row) => row.record[c] ?? '')
	);
	return { ok: true, value: { columns, rowCount: body.length, values } };
}
