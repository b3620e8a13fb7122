import type { FailureKind } from '../canonical/failure.js';
import type { BreakerChange } from './breaker.js';
import type { DecisionAction } from './decision.js';

/**
 * Why an attempt was started: the first one, a retry on the same target, a fallback to another
 * target, a hedge (raced beside a slow attempt), or a continuation of a stream that failed after
 * output.
 */
export type AttemptReason = 'primary' | 'retry' | 'fallback' | 'hedge' | 'continuation';

/** Where one target's streamed answer was taken over by another (mid-stream continuation). */
export interface Splice {
  /** The target whose stream failed. */
  from: string;
  /** The target that continued the answer. */
  to: string;
  /** Characters of answer text the client had when the stream failed. */
  atChar: number;
  /** How the partial answer was handed over. */
  mode: 'prefill' | 'continue_turn';
  /** Characters the continuation repeated and the seam removed. */
  overlapChars: number;
}

/** One serialisable record per upstream attempt (or skipped candidate). */
export interface AttemptRecord {
  ordinal: number;
  target: string;
  rung: number;
  reason: AttemptReason;
  /**
   * `skipped`: passed over without a call (e.g. cooling down). `lost`: one of a hedged pair whose
   * partner answered first; its upstream request was aborted.
   */
  outcome: 'ok' | 'failed' | 'skipped' | 'lost';
  startedAt: number;
  headersAt?: number;
  firstTokenAt?: number;
  endedAt: number;
  failure?: {
    kind: FailureKind;
    status?: number;
    code?: string;
    message: string;
    retryAfterMs?: number;
  };
  /** What followed; `rung` is the rung a `skip_to` jumped to. */
  decision?: { action: DecisionAction; rule: string; delayMs?: number; cooldownMs?: number; rung?: number };
  /** Why a candidate was skipped. */
  skipReason?: string;
  /** Request parameters this target had no equivalent for, dropped because they do not change the answer's meaning. */
  droppedParams?: string[];
  /** The target's circuit when the attempt was dispatched. */
  breaker?: 'closed' | 'half_open';
  /** A hedge was due for this attempt but not started, and why (e.g. the retry budget was exhausted). */
  hedgeSkipped?: string;
  /** The circuit changed phase because of this attempt (opened, or closed after probes). */
  breakerChange?: BreakerChange;
}

/** The whole request, as every view (headers, log, metrics) sees it. */
export interface RequestRecord {
  requestId: string;
  route: string;
  stream: boolean;
  startedAt: number;
  endedAt: number;
  /** HTTP status the client received. */
  status: number;
  /** The virtual key's id (never the key), when the request authenticated with one. */
  keyId?: string;
  /** `provider/model` that served, when one did (`understudy/static` for a static rung). */
  servedBy?: string;
  degraded: boolean;
  /** The stream ended with an error event after output had been sent. */
  streamError?: FailureKind;
  /** Every target whose output reached the client, in order, when more than one did (continuation). */
  contributors?: string[];
  /** Where the answer was spliced. */
  splices?: Splice[];
  /** Estimated cost of the attempts after the first, when the request had a `max_extra_cost` (extra-cost.ts). */
  extraCost?: number;
  attempts: AttemptRecord[];
  /** Set when the gateway rejected the request before any attempt (bad input, unknown model). */
  rejected?: string;
}

/**
 * FailureKinds that moved the request along the ladder, in order, without repeats: those of
 * failed attempts, and those behind a skip (a target cooling down after a rate limit is skipped
 * *because of* that rate limit).
 */
export function fallbackReasons(attempts: readonly AttemptRecord[]): FailureKind[] {
  const out: FailureKind[] = [];
  for (const attempt of attempts) {
    const kind = attempt.outcome === 'ok' ? undefined : attempt.failure?.kind;
    if (kind && !out.includes(kind)) out.push(kind);
  }
  return out;
}

/** Candidates passed over without a call, as `target (why)`. */
export function skippedTargets(attempts: readonly AttemptRecord[]): string[] {
  return attempts.filter((a) => a.outcome === 'skipped').map((a) => `${a.target} (${a.skipReason ?? 'unavailable'})`);
}

/** Upstream calls actually made (skipped candidates are not attempts). */
export function attemptCount(attempts: readonly AttemptRecord[]): number {
  let n = 0;
  for (const attempt of attempts) if (attempt.outcome !== 'skipped') n++;
  return n;
}
