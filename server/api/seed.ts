// What a new workspace starts with: the default hyperparameters in `params` and a
// starter `train.py` in `code`, written through the relay (stored, with the
// creator as author, before anyone can connect).

import * as Y from 'yjs';
import type { RelayApi } from '../relay/api.ts';
import { DEFAULT_HYPERPARAMETERS, schema } from '../protocol/docs.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';

export const STARTER_FILE = 'train.py';

export const STARTER_CODE = `"""Starter training script for this Ensemble workspace.

\`python3 clients/python/ensemble_client.py run train.py\` runs it with the
workspace's hyperparameters; each JSON line it prints is a metric everyone sees.
"""

import json
import os
import random

DEFAULTS = ${JSON.stringify(DEFAULT_HYPERPARAMETERS)}


def train(hp, report):
    random.seed(hp["seed"])
    loss = 1.0
    for epoch in range(1, int(hp["epochs"]) + 1):
        loss *= 1 - hp["learning_rate"] * random.uniform(0.5, 1.5)
        report(epoch=epoch, loss=round(loss, 4), accuracy=round(1 - loss / 2, 4))


if __name__ == "__main__":
    hp = {**DEFAULTS, **json.loads(os.environ.get("ENSEMBLE_HYPERPARAMETERS", "{}"))}
    train(hp, lambda **metrics: print(json.dumps(metrics), flush=True))
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
