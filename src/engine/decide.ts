import type { FailureDetails, FailureKind } from '../canonical/failure.js';
import { backoffDelay } from './backoff.js';
import type { Decision } from './decision.js';
import type { Policy } from './route.js';

/** Everything `decide` may look at about the attempt that just failed. */
export interface DecideInput {
  failure: FailureDetails;
  /** Retries already made on this target within this rung. */
  retriesUsed: number;
  /** The rung's retry allowance. */
  retriesAllowed: number;
  /** Index of the rung the failed attempt ran on. */
  rung: number;
  /** Milliseconds left before the request's deadline. */
  remainingMs: number;
  /** Output has already been sent to the client (a streaming answer is under way). */
  committed: boolean;
  /** A uniform number in [0, 1) for jitter, supplied by the caller. */
  random: number;
  /**
   * A committed stream may be continued by another target: the client streams, the answer so far
   * is plain text, and the route allows it (continuation.ts). Only read when `committed`.
   */
  continuable?: boolean;
  /**
   * A hedge partner of the failed attempt is still running: a retry would race a third attempt
   * beside it, so the request waits for the partner instead (a move to the next target).
   */
  hedgeInFlight?: boolean;
  /** The fleet-wide or per-route retry budget has no room: a retry becomes a move to the next target. */
  retryBudgetExhausted?: boolean;
}

/**
 * Failures after output that another target may repair by continuing the answer: the target broke
 * (cut, stall, an in-band error, garbage), not the request, the contract, the safety system, the
 * deadline or the client.
 */
const CONTINUABLE: ReadonlySet<FailureKind> = new Set<FailureKind>([
  'stream_cut',
  'stream_stalled',
  'server_error',
  'overloaded',
  'connection',
  'rate_limited',
  'malformed_response',
]);

/**
 * The fallback decision. Pure: the same input always gives the same decision.
 * Read this during an incident: one row per FailureKind, no defaults, no hidden state.
 */
export function decide(input: DecideInput, policy: Policy): Decision {
  const { failure } = input;
  const canRetry = input.retriesUsed < input.retriesAllowed;

  if (input.committed && failure.kind !== 'client_cancelled') {
    // Output already reached the client. A target's fault may be repaired by another target
    // continuing the answer; anything else ends the stream with an explicit error, never as a
    // truncated success.
    if (input.continuable && CONTINUABLE.has(failure.kind)) return { action: 'continue', rule: 'midstream_continuation' };
    return { action: 'stop', rule: 'committed_stream' };
  }
  const decision = decideByKind(input, policy, canRetry);
  if (decision.action === 'retry_same' && input.hedgeInFlight) return { action: 'next_target', rule: 'hedge_in_flight' };
  if (decision.action === 'retry_same' && input.retryBudgetExhausted) {
    // Over budget: an outage must not become a retry storm. Move on (cooling a rate-limited
    // target for its own wait, as a long Retry-After would).
    const wait = failure.kind === 'rate_limited' ? failure.retryAfterMs : undefined;
    return wait !== undefined ? { action: 'next_target', cooldownMs: wait, rule: 'retry_budget_exhausted' } : { action: 'next_target', rule: 'retry_budget_exhausted' };
  }
  return decision;
}

function decideByKind(input: DecideInput, policy: Policy, canRetry: boolean): Decision {
  const { failure, retriesUsed, remainingMs } = input;

  switch (failure.kind) {
    case 'rate_limited': {
      const wait = failure.retryAfterMs;
      if (wait === undefined) {
        return { action: 'next_target', cooldownMs: policy.rateLimitCooldownMs, rule: 'rate_limited_no_retry_after' };
      }
      if (canRetry && wait <= policy.maxRetryWaitMs && wait < remainingMs) {
        return { action: 'retry_same', delayMs: wait, rule: 'rate_limited_short_wait' };
      }
      return { action: 'next_target', cooldownMs: wait, rule: 'rate_limited_long_wait' };
    }
    case 'quota_exhausted':
      return { action: 'next_target', cooldownMs: policy.quotaCooldownMs, rule: 'quota_exhausted' };
    case 'overloaded':
    case 'server_error': {
      const delay = failure.retryAfterMs ?? backoffDelay(retriesUsed, policy.backoffBaseMs, policy.backoffMaxMs, input.random);
      if (canRetry && delay <= policy.maxRetryWaitMs && delay < remainingMs) {
        return { action: 'retry_same', delayMs: delay, rule: 'transient_retry' };
      }
      return { action: 'next_target', rule: 'transient_exhausted' };
    }
    case 'connection':
      if (canRetry) return { action: 'retry_same', delayMs: 0, rule: 'connection_retry' };
      return { action: 'next_target', rule: 'connection_exhausted' };
    case 'timeout_headers':
    case 'timeout_first_token':
      return { action: 'next_target', rule: 'silent_target' };
    case 'stream_stalled':
    case 'stream_cut':
      return { action: 'next_target', rule: 'stream_failed_before_output' };
    case 'malformed_response':
    case 'empty_output':
      return { action: 'next_target', rule: 'bad_output' };
    case 'contract_violation': {
      // The route may name a stronger rung for answers that broke the contract; never a step back.
      const to = policy.contractViolationRung;
      if (to !== undefined && to > input.rung) return { action: 'skip_to', match: 'rung', rung: to, rule: 'contract_violation_to' };
      return { action: 'next_target', rule: 'bad_output' };
    }
    case 'context_window':
      return { action: 'skip_to', match: 'other_model', rule: 'context_window' };
    case 'content_policy':
      if (policy.fallbackOnContentPolicy) return { action: 'next_target', rule: 'content_policy_opt_in' };
      return { action: 'stop', rule: 'content_policy' };
    case 'upstream_auth':
    case 'model_not_found':
      return { action: 'next_target', cooldownMs: policy.misconfiguredCooldownMs, rule: 'misconfigured_target' };
    case 'unsupported_parameter':
      return { action: 'next_target', rule: 'unsupported_parameter' };
    case 'invalid_request':
      return { action: 'stop', rule: 'invalid_request' };
    case 'budget_exceeded':
      return { action: 'degrade', rule: 'budget_exceeded' };
    case 'deadline_exceeded':
      return { action: 'degrade', rule: 'deadline_exceeded' };
    case 'client_cancelled':
      return { action: 'stop', rule: 'client_cancelled' };
    default:
      return assertNever(failure.kind);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled FailureKind: ${String(value)}`);
}
