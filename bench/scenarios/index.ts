// Every scenario, in the order they run.

import type { Scenario } from './types.ts';
import { replayScenario } from './replay.ts';
import { fanoutScenario } from './fanout.ts';
import { roomsScenario } from './rooms.ts';
import { coldloadScenario } from './coldload.ts';
import { isolationScenario } from './isolation.ts';
import { durabilityScenario } from './durability.ts';
import { memoryScenario } from './memory.ts';
import { scaleoutScenario } from './scaleout.ts';

export const SCENARIOS: readonly Scenario[] = [
	replayScenario,
	fanoutScenario,
	roomsScenario,
	coldloadScenario,
	isolationScenario,
	durabilityScenario,
	memoryScenario,
	scaleoutScenario
];
