// What a new workspace starts with: the default hyperparameters in `params` and a
// starter `train.py` in `code`, written through the relay (stored, with the
// creator as author, before anyone can connect).

import * as Y from 'yjs';
import type { RelayApi } from '../relay/api.ts';
import { DEFAULT_HYPERPARAMETERS, schema } from '../protocol/docs.ts';
import type { UserId, WorkspaceId } from '../protocol/ids.ts';

export const STARTER_FILE = 'train.py';

export const STARTER_CODE = `"""Starter training script for this Ensemble workspace.

Run it where the compute is with
    python3 clients/python/ensemble_client.py run train.py
It then trains with the workspace's current hyperparameters (edit them in the
dashboard), and every metric line it prints appears live for everyone.
"""

import json
import os
import random

DEFAULTS = ${JSON.stringify(DEFAULT_HYPERPARAMETERS)}


def hyperparameters():
    """The workspace's values when started by \`ensemble_client.py run\`, else the defaults."""
    raw = os.environ.get("ENSEMBLE_HYPERPARAMETERS")
    return {**DEFAULTS, **json.loads(raw)} if raw else dict(DEFAULTS)


def report(**metrics):
    """One JSON line per point: the runner turns each into a live metric."""
    print(json.dumps(metrics), flush=True)


def train(hp, report):
    random.seed(hp["seed"])
    loss = 1.0
    for epoch in range(1, int(hp["epochs"]) + 1):
        loss *= 1 - hp["learning_rate"] * random.uniform(0.5, 1.5)
        accuracy = 1 - loss / 2
        report(epoch=epoch, loss=round(loss, 4), accuracy=round(accuracy, 4))


if __name__ == "__main__":
    train(hyperparameters(), report)
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
