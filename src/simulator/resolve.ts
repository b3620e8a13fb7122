import type { LeafScenario, Scenario } from './scenario.js';

/** Mutable per-model state consulted while resolving composite scenarios. */
export interface ResolveState {
  /** fail_first call counters, keyed by the composite's position in the scenario tree. */
  counters: Map<string, number>;
  /** Current clock reading (ms). */
  now: number;
  /** Clock reading when the simulator was created (ms). */
  epoch: number;
}

export const DEFAULT_OUTAGE_FAILURE: LeafScenario = { kind: 'status', status: 503 };

/** True while a scheduled outage is in effect at `elapsedMs` after the schedule origin. */
export function inOutage(elapsedMs: number, downMs: number, everyMs: number): boolean {
  const phase = ((elapsedMs % everyMs) + everyMs) % everyMs;
  return phase < downMs;
}

/**
 * Resolves `fail_first` / `outage` composites down to the scenario that actually runs for one call.
 * Each `fail_first` reached counts one call (so nested composites each keep their own counter).
 */
export function resolveScenario(scenario: Scenario, state: ResolveState, path = '$'): LeafScenario {
  switch (scenario.kind) {
    case 'fail_first': {
      const seen = state.counters.get(path) ?? 0;
      state.counters.set(path, seen + 1);
      return seen < scenario.n
        ? resolveScenario(scenario.failure, state, `${path}.failure`)
        : resolveScenario(scenario.then, state, `${path}.then`);
    }
    case 'outage': {
      const elapsed = state.now - state.epoch + (scenario.offset_ms ?? 0);
      return inOutage(elapsed, scenario.down_ms, scenario.every_ms)
        ? resolveScenario(scenario.failure ?? DEFAULT_OUTAGE_FAILURE, state, `${path}.failure`)
        : resolveScenario(scenario.then, state, `${path}.then`);
    }
    default:
      return scenario;
  }
}
