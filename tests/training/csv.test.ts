import { describe, expect, it } from 'vitest';
import { headRows, MAX_LISTED_PROBLEMS, parseCsv } from '../../server/training/csv.ts';
import { irisTable, toTrainingData } from '../../server/training/datasets.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function error(text: string | Uint8Array, limits?: Parameters<typeof parseCsv>[1]): string {
	const result = parseCsv(typeof text === 'string' ? bytes(text) : text, limits);
	if (result.ok) throw new Error('expected the CSV to be refused');
	return result.message;
}

describe('CSV upload checks', () => {
	it('[DATA3] a good CSV gives typed columns and rows', () => {
		const result = parseCsv(bytes('\ufeffa,b,label\n1,2.5,x\n3,-4e2,y\n\n'));
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.value.columns.map((c) => [c.name, c.type])).toEqual([
			['a', 'number'],
			['b', 'number'],
			['label', 'text']
		]);
		expect(headRows(result.value, 10)).toEqual([
			[1, 2.5, 'x'],
			[3, -400, 'y']
		]);
		expect(result.value.values[0]).toBeInstanceOf(Float64Array);
	});

	it('[DATA2] an empty file is refused as empty', () => {
		expect(error('')).toBe('the file is empty');
		expect(error('\n  \n')).toBe('the file is empty');
	});

	it('[DATA2] a file without a header row says so', () => {
		expect(error('1,2,3\n4,5,6\n')).toMatch(/line 1 looks like data, not a header/);
	});

	it('[DATA2] a ragged row names its line and the field counts', () => {
		expect(error('a,b,c\n1,2,3\n4,5\n')).toBe('line 3 has 2 fields but the header has 3 columns');
	});

	it('[DATA2] a non-numeric feature names the line, the column and the value', () => {
		expect(error('a,b,label\n1,2,x\n3,oops,y\n5,6,z\n')).toBe(
			"line 3, column 'b': 'oops' is not a number (the other values of this column are numbers)"
		);
		expect(error('city,country,label\nParis,France,1\nRome,Italy,0\n')).toMatch(
			/non-numeric features: the columns 'city', 'country' hold text/
		);
	});

	it('[DATA2] too large, too many rows, empty cells, header only, bad text are refused', () => {
		expect(error('a,b\n1,2\n', { maxBytes: 4, maxRows: 10, maxColumns: 10 })).toMatch(
			/the file is too large: 8 bytes, at most 4/
		);
		expect(error('a,b\n1,2\n3,4\n', { maxBytes: 100, maxRows: 1, maxColumns: 10 })).toMatch(
			/2 data rows; at most 1/
		);
		expect(error('a,b\n1,\n')).toBe(
			"line 2, column 'b': the value is empty (missing values are not supported)"
		);
		expect(error('a,b\n')).toBe('the file has a header but no data rows');
		expect(error('a,a\n1,2\n')).toMatch(/the column name 'a' appears twice \(columns 1 and 2\)/);
		expect(error(new Uint8Array([0x61, 0x2c, 0x62, 0x0a, 0xff, 0x2c, 0x31]))).toMatch(
			/not UTF-8 text \(line 2/
		);
		expect(error('a,"b\n1,2\n')).toMatch(/not valid CSV/);
	});
});

describe('training data from a table', () => {
	it('[DATA4] Iris splits into 4 numeric features and 3 classes', () => {
		const data = toTrainingData(irisTable(), 'species');
		expect(data.ok).toBe(true);
		if (!data.ok) return;
		expect(data.value.featureNames).toHaveLength(4);
		expect(data.value.classes).toHaveLength(3);
		expect(data.value.features).toHaveLength(150 * 4);
	});

	it('[DATA4] a target that is missing, constant or leaves a text feature is refused', () => {
		const table = parseCsv(bytes('x,y,label\n1,1,a\n2,2,a\n'));
		if (!table.ok) throw new Error(table.message);
		const missing = toTrainingData(table.value, 'nope');
		expect(missing.ok ? '' : missing.message).toMatch(/no column 'nope'/);
		const constant = toTrainingData(table.value, 'label');
		expect(constant.ok ? '' : constant.message).toMatch(/only one value/);
		const text = toTrainingData(table.value, 'x');
		expect(text.ok ? '' : text.message).toMatch(/column 'label' holds text/);
	});

	it('[DATA5] a file with several problems lists them all, up to a limit', () => {
		const message = error(
			'a,b,label\n1,2,x\n3,oops,y\n4\n5,,z\n6,nope,w\n7,8,v\n9,10,u\n11,12,t\n'
		);
		expect(message).toBe(
			"4 problems: line 4 has 1 fields but the header has 3 columns; line 5, column 'b': the value is empty (missing values are not supported); line 3, column 'b': 'oops' is not a number (the other values of this column are numbers); line 6, column 'b': 'nope' is not a number (the other values of this column are numbers)"
		);
		const rows = Array.from({ length: 50 }, (_, i) => `${i},bad${i},x`);
		const many = error(
			`a,b,label\n${Array.from({ length: 60 }, (_, i) => `${i},${i},y`).join('\n')}\n${rows.join('\n')}\n`
		);
		expect(many).toMatch(/^50 problems: /);
		expect(many.split('; ').length).toBe(MAX_LISTED_PROBLEMS + 1);
		expect(many).toMatch(/; and 30 more$/);
	});
});
