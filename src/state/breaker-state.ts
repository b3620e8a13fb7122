import type { FailureKind } from '../canonical/failure.js';

/**
 * The serialisable state of one target's circuit breaker, as the StateStore keeps it. The rules
 * that move it between phases live in `engine/breaker.ts`; the store only keeps it, versioned, so
 * that a shared backend can update it with a compare-and-set (see `StateStore.compareAndSetBreaker`).
 * Plain JSON: numbers are epoch milliseconds or durations in milliseconds.
 */
export type BreakerState = ClosedBreaker | OpenBreaker | HalfOpenBreaker;

export type BreakerPhase = BreakerState['phase'];

/** Why a breaker opened: a threshold, or the one FailureKind that opened it (misconfiguration, a failed probe). */
export type OpenReason = FailureKind | 'failure_rate' | 'consecutive_failures';

/** Calls flow; outcomes are counted. */
export interface ClosedBreaker {
  phase: 'closed';
  /** The last outcomes that fed the breaker, oldest first, at most `window` long. */
  outcomes: ('ok' | 'failed')[];
  /** Failures since the last success. */
  consecutiveFailures: number;
}

/** No calls until `reopensAt`. */
export interface OpenBreaker {
  phase: 'open';
  reason: OpenReason;
  /** The failure that opened it (the one that tipped a threshold), for skip records. */
  kind: FailureKind;
  openedAt: number;
  reopensAt: number;
  /** Length of this open period: the base that doubles if the next probe fails. */
  cooldownMs: number;
}

/** A few probe calls at a time decide between closed and open again. */
export interface HalfOpenBreaker {
  phase: 'half_open';
  /** Why the breaker opened, and the failure that opened it (kept for skip records). */
  reason: OpenReason;
  kind: FailureKind;
  /** Length of the last open period: the base that doubles if a probe fails. */
  cooldownMs: number;
  /** Lease expiry of each probe in flight; a probe not recorded by then is presumed lost. */
  probeLeases: number[];
  /** Probe successes since the breaker went half-open. */
  successes: number;
}

/** A breaker state with the version the store holds it at (1 after the first write). */
export interface VersionedBreaker {
  version: number;
  state: BreakerState;
}

/** The state of a target the store knows nothing about: closed, nothing counted. */
export function freshBreaker(): ClosedBreaker {
  return { phase: 'closed', outcomes: [], consecutiveFailures: 0 };
}
