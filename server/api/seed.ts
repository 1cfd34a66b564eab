// What a new workspace starts with: the default hyperparameters in `params` and a
// starter `train.py` in `code`, written through the relay (stored, with the
// creator as author, before anyone can connect).

import * as Y from 'yjs';
import type { RelayApi } from '../relay/api.ts';
import { DEFAULT_HYPERPARAMETERS, schema } from '../protocol/docs.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';

export const STARTER_FILE = 'train.py';

export const STARTER_CODE = `"""Starter training script for this Ensemble workspace.

Hyperparameters come from the workspace (edit them in the dashboard); metrics
reported here appear live for everyone in the workspace.
"""

import random


def train(hp, report):
    random.seed(hp["seed"])
    loss = 1.0
    for epoch in range(1, hp["epochs"] + 1):
        loss *= 1 - hp["learning_rate"] * random.uniform(0.5, 1.5)
        accuracy = 1 - loss / 2
        report(epoch=epoch, loss=round(loss, 4), accuracy=round(accuracy, 4))


if __name__ == "__main__":
    hyperparameters = ${JSON.stringify(DEFAULT_HYPERPARAMETERS)}
    train(hyperparameters, lambda **metrics: print(metrics))
`;

export async function seedWorkspace(
	relay: RelayApi,
	workspace: WorkspaceId,
	author: UserId
): Promise<void> {
	await relay.write({ workspace, doc: 'params' }, author, (doc) => {
		const hyperparameters = doc.getMap(schema.params.hyperparameters);
		for (const [key, value] of Object.entries(DEFAULT_HYPERPARAMETERS))
			hyperparameters.set(key, value);
	});
	await relay.write({ workspace, doc: 'code' }, author, (doc) => {
		doc.getMap<Y.Text>(schema.code.files).set(STARTER_FILE, new Y.Text(STARTER_CODE));
	});
}
