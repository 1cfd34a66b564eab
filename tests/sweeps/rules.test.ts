// HP1: the app's validator and the server's give the same verdicts on the same
// values, because both read server/protocol/hyperparameters.ts.
import { describe, expect, it } from 'vitest';
import { parseHyperparameter } from '../../src/lib/workspace/validation.ts';
import { parseHyperparameters } from '../../server/training/hyperparameters.ts';
import { HYPERPARAMETER_RULES } from '../../server/protocol/hyperparameters.ts';

const TABLE: Record<string, string[]> = {
	learning_rate: ['0', '-1', '0.0001', '10', '10.5', 'fast', '1e-3', 'Infinity'],
	batch_size: ['0', '1', '16', '16.5', '65536', '65537', '-3'],
	epochs: ['0', '1', '10000', '10001', '2.5'],
	hidden_units: ['0', '1', '4096', '4097'],
	validation_split: ['0', '0.2', '0.9', '0.95', '1', '-0.1'],
	seed: ['0', '42', '-1', '2147483647', '2147483648', '1.5'],
	optimizer: ['adam', 'sgd', 'rmsprop', 'adagrad', 'momentum', 'lbfgs', 'ADAM']
};

describe('hyperparameter rules', () => {
	it('[HP1] the app and the server agree on every value of the table', () => {
		expect(Object.keys(TABLE).sort()).toEqual(Object.keys(HYPERPARAMETER_RULES).sort());
		for (const [key, values] of Object.entries(TABLE)) {
			for (const raw of values) {
				const app = parseHyperparameter(key, raw, undefined);
				const server = parseHyperparameters({ [key]: raw });
				expect({ key, raw, ok: app.ok }).toEqual({ key, raw, ok: server.ok });
				if (!app.ok && !server.ok) expect(server.message).toContain(app.message.slice(0, -1));
			}
		}
	});

	it('[HP1] validation_split 0.95 and momentum are judged alike (the old disagreements)', () => {
		expect(parseHyperparameter('validation_split', '0.95', 0.2).ok).toBe(false);
		expect(parseHyperparameters({ validation_split: 0.95 }).ok).toBe(false);
		expect(parseHyperparameter('optimizer', 'momentum', 'adam').ok).toBe(true);
		expect(parseHyperparameters({ optimizer: 'momentum' }).ok).toBe(true);
	});
});
