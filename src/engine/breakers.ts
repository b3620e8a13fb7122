/**
 * The circuit breakers of every target, kept in the StateStore (shared by every instance with a
 * shared backend). The rules are in breaker.ts; this class only reads the state, applies a pure
 * step and writes the result back with a compare-and-set on the state's version, re-reading and
 * re-applying when another request (or instance) wrote in between.
 *
 * For the engine, per candidate target, right before dispatch (after the cheaper skips:
 * deadline, capability, cooldown — an admit may take a probe slot):
 *
 *   const admission = await breakers.admit(target.id, clock.now());
 *   if (!admission.admitted) → skip the candidate: record it as skipped with failure kind
 *     `admission.kind` and retryAfterMs = reopensAt - now (as a cooling target is today), skip
 *     reason naming `admission.reason`. No latency cost: a closed or open target costs one
 *     state read and no write.
 *   … run the attempt; put `admission.state` on the attempt record (breaker state at dispatch) …
 *   const t = await breakers.record(target.id, outcome, clock.now(), admission.probe);
 *     outcome: { ok: true } when the attempt committed, or { ok: false, kind, retryAfterMs }.
 *     t: log every transition; at error level when `t.misconfigured`.
 *   When the attempt ends without an outcome — the client cancelled, or it was a hedge that
 *   lost — do not record; call `breakers.release(target.id, admission.probe)` instead.
 *
 * Costs: admit on a closed or open target is one read; record of a success on a healthy target
 * (window full of successes) is one read; anything else is a read and a compare-and-set.
 * Under extreme contention (more than MAX_CAS_TRIES lost races in a row) an outcome is dropped
 * and an admit is refused, never blocked.
 */
import { freshBreaker, type BreakerState } from '../state/breaker-state.js';
import type { StateStore } from '../state/state-store.js';
import {
  admitStep,
  DEFAULT_BREAKER_CONFIG,
  healthProbeSucceededStep,
  recordStep,
  releaseStep,
  type Admission,
  type BreakerConfig,
  type BreakerOutcome,
  type BreakerTransition,
  type HealthProbeChange,
  type Step,
} from './breaker.js';

export type BreakerStore = Pick<StateStore, 'getBreaker' | 'compareAndSetBreaker'>;

const MAX_CAS_TRIES = 16;

export class CircuitBreakers {
  constructor(
    private readonly store: BreakerStore,
    private readonly config: BreakerConfig = { ...DEFAULT_BREAKER_CONFIG },
  ) {}

  /** Whether a call may go to `targetId` now; `probe: true` must be handed back to `record` or `release`. */
  async admit(targetId: string, now: number): Promise<Admission> {
    let seen: BreakerState | undefined;
    const result = await this.update(targetId, (state) => {
      seen = state;
      return admitStep(state, now, this.config);
    });
    if (result.done) return result.value;
    // Lost every race: refuse rather than wait. Only an open or half-open breaker writes on admit,
    // so `seen` is one of those.
    if (seen && seen.phase !== 'closed') return { admitted: false, reopensAt: now, reason: seen.reason, kind: seen.kind };
    return { admitted: true, probe: false, state: 'closed' };
  }

  /** Feeds one attempt's outcome; returns the phase change it caused, if any. */
  async record(targetId: string, outcome: BreakerOutcome, now: number, probe: boolean): Promise<BreakerTransition | undefined> {
    const result = await this.update(targetId, (state) => recordStep(state, outcome, probe, now, this.config));
    return result.done && result.value ? { ...result.value, targetId } : undefined;
  }

  /** Frees the probe slot of an admitted attempt that ended without an outcome. */
  async release(targetId: string, probe: boolean): Promise<void> {
    if (!probe) return;
    await this.update(targetId, (state) => releaseStep(state, probe));
  }

  /**
   * An active health probe sent while the circuit was open (the open period that began at
   * `openedAt`) got an answer: ends that period now (half-open). Undefined when the breaker had
   * moved on, or the write lost every race (the period then ends on time, as without probes).
   */
  async healthProbeSucceeded(targetId: string, openedAt: number, now: number): Promise<(HealthProbeChange & { targetId: string }) | undefined> {
    const result = await this.update(targetId, (state) => healthProbeSucceededStep(state, openedAt, now));
    return result.done && result.value ? { ...result.value, targetId } : undefined;
  }

  /** The stored state (closed and empty for a target never seen), for metrics and the dashboard. */
  async read(targetId: string): Promise<BreakerState> {
    return (await this.store.getBreaker(targetId))?.state ?? freshBreaker();
  }

  private async update<R>(targetId: string, step: (state: BreakerState) => Step<R>): Promise<{ done: true; value: R } | { done: false }> {
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const stored = await this.store.getBreaker(targetId);
      const state = stored?.state ?? freshBreaker();
      const { next, result } = step(state);
      if (next === state) return { done: true, value: result };
      if (await this.store.compareAndSetBreaker(targetId, stored?.version ?? 0, next)) return { done: true, value: result };
    }
    return { done: false };
  }
}
