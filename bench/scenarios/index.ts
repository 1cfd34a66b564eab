// Every scenario, in the order they run.

import type { Scenario } from './types.ts';
import { replayScenario } from './replay.ts';

export const SCENARIOS: readonly Scenario[] = [replayScenario];
