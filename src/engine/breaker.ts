/**
 * Circuit breaker per target: the rules, as pure functions over a serialisable `BreakerState`
 * (state/breaker-state.ts) with an injected `now`. No timers, no clock, no I/O here; the
 * `CircuitBreakers` class (breakers.ts) reads and writes the state through the StateStore.
 *
 *   closed ──(failure rate | consecutive failures | misconfiguration)──▶ open
 *   open ──(now ≥ reopensAt: the next admit takes a probe)──▶ half_open
 *   open ──(an active health probe succeeded, when configured: healthProbeSucceededStep)──▶ half_open
 *   half_open ──(successThreshold probe successes)──▶ closed (window and counts start afresh)
 *   half_open ──(a probe fails)──▶ open, for twice the last open period (capped)
 *
 * Config keys (`BreakerConfig`, defaults in `DEFAULT_BREAKER_CONFIG`):
 *   window                   20       outcomes kept while closed (a count window, not a time one)
 *   minRequests              5        outcomes in the window before the failure rate can open it
 *   failureRate              0.5      failed / counted in the window at which it opens (0 < x ≤ 1)
 *   consecutiveFailures      5        failures in a row that open it, whatever the rate
 *   cooldownMs               30_000   first open period; a 429's Retry-After stretches it: max(cooldownMs, Retry-After)
 *   maxCooldownMs            300_000  cap on the doubling after failed probes (a Retry-After may exceed it)
 *   halfOpenProbes           1        probes in flight at once while half-open
 *   successThreshold         2        probe successes that close it
 *   misconfiguredCooldownMs  300_000  open period after upstream_auth / model_not_found (opens at once)
 *   probeLeaseMs             120_000  a probe neither recorded nor released by then is presumed lost
 *                                     and its slot is freed (an instance died mid-probe)
 *
 * Which outcomes count: `feedsBreaker`, one exhaustive switch. Rate limits: a 429 counts as an
 * ordinary failure in the window, but a single 429 never opens the breaker — decide() already
 * cools a rate-limited target for exactly its Retry-After (state cooldowns), and opening here too
 * would double-count it. Sustained 429s open it like any other failure, for max(cooldownMs,
 * Retry-After) when the failure that tipped it carried one.
 *
 * Outcomes that arrive late are ignored: while open, every outcome (calls admitted before it
 * opened); while half-open, every non-probe outcome. Only probes decide a half-open breaker.
 */
import type { FailureKind } from '../canonical/failure.js';
import { freshBreaker, type BreakerPhase, type BreakerState, type ClosedBreaker, type HalfOpenBreaker, type OpenBreaker, type OpenReason } from '../state/breaker-state.js';

export interface BreakerConfig {
  window: number;
  minRequests: number;
  failureRate: number;
  consecutiveFailures: number;
  cooldownMs: number;
  maxCooldownMs: number;
  halfOpenProbes: number;
  successThreshold: number;
  misconfiguredCooldownMs: number;
  probeLeaseMs: number;
}

export const DEFAULT_BREAKER_CONFIG: Readonly<BreakerConfig> = Object.freeze({
  window: 20,
  minRequests: 5,
  failureRate: 0.5,
  consecutiveFailures: 5,
  cooldownMs: 30_000,
  maxCooldownMs: 300_000,
  halfOpenProbes: 1,
  successThreshold: 2,
  misconfiguredCooldownMs: 300_000,
  probeLeaseMs: 120_000,
});

/** Defaults with `overrides` applied, checked; throws a RangeError naming the first bad key. */
export function breakerConfig(overrides: Partial<BreakerConfig> = {}): BreakerConfig {
  const config = { ...DEFAULT_BREAKER_CONFIG, ...overrides };
  const positiveInts: (keyof BreakerConfig)[] = ['window', 'minRequests', 'consecutiveFailures', 'halfOpenProbes', 'successThreshold'];
  for (const key of positiveInts) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new RangeError(`breaker.${key} must be a positive integer, got ${config[key]}`);
  }
  const durations: (keyof BreakerConfig)[] = ['cooldownMs', 'maxCooldownMs', 'misconfiguredCooldownMs', 'probeLeaseMs'];
  for (const key of durations) {
    if (!Number.isFinite(config[key]) || config[key] <= 0) throw new RangeError(`breaker.${key} must be a positive duration, got ${config[key]}`);
  }
  if (!(config.failureRate > 0 && config.failureRate <= 1)) throw new RangeError(`breaker.failureRate must be in (0, 1], got ${config.failureRate}`);
  if (config.minRequests > config.window) throw new RangeError(`breaker.minRequests (${config.minRequests}) must not exceed breaker.window (${config.window})`);
  if (config.maxCooldownMs < config.cooldownMs) throw new RangeError(`breaker.maxCooldownMs (${config.maxCooldownMs}) must not be below breaker.cooldownMs (${config.cooldownMs})`);
  return config;
}

/**
 * What a failure of each kind does to the target's breaker:
 * - `failure`: the target's fault; counted toward the failure rate and the consecutive count.
 * - `trip`: the target is misconfigured (bad key, unknown model); opens at once for
 *   `misconfiguredCooldownMs` — retrying it cannot help until someone fixes the config.
 * - `ignore`: not the target's fault, or says nothing of its health; not counted at all.
 * (A hedge that lost is not an outcome: the engine does not report it.)
 */
export type BreakerFeed = 'failure' | 'trip' | 'ignore';

export function feedsBreaker(kind: FailureKind): BreakerFeed {
  switch (kind) {
    case 'rate_limited': // counted, but one alone never opens it: see the header
    case 'quota_exhausted': // decide() also cools it for long
    case 'overloaded':
    case 'server_error':
    case 'connection':
    case 'timeout_headers':
    case 'timeout_first_token':
    case 'stream_stalled':
    case 'stream_cut':
    case 'malformed_response':
    case 'empty_output':
      return 'failure';
    case 'upstream_auth':
    case 'model_not_found':
      return 'trip';
    case 'contract_violation': // the target answered; our output contract refused the answer
    case 'context_window': // the prompt's fault
    case 'content_policy': // a safety decision, not an outage
    case 'unsupported_parameter': // our translation of this request's parameters, not the target's health
    case 'invalid_request': // the client's fault
    case 'budget_exceeded': // the request's budget
    case 'deadline_exceeded': // the request's deadline ran out, whichever target was running
    case 'client_cancelled': // the client went away
      return 'ignore';
    default:
      return assertNever(kind);
  }
}

/** What `record` is told about an attempt. `ttftMs` is accepted for latency-based opening later; unused today. */
export type BreakerOutcome = { ok: true; ttftMs?: number } | { ok: false; kind: FailureKind; retryAfterMs?: number };

export type Admission =
  | { admitted: true; probe: boolean; state: 'closed' | 'half_open' }
  /**
   * Skip the target. `reopensAt`: when an admit may next succeed (half-open with every probe slot
   * taken: when the oldest probe lease runs out, at the latest). `kind`: the failure that opened
   * it — the skip record's failure kind, so an all-failed answer stays 429 when the breaker
   * opened on rate limits and 503 otherwise.
   */
  | { admitted: false; reopensAt: number; reason: OpenReason; kind: FailureKind };

/**
 * A change of phase caused by an outcome, for the engine to log (at error level when
 * `misconfigured`) and count. open → half_open is not one: it happens in `admit`, which says so
 * with `probe: true`.
 */
export type BreakerChange =
  | { from: 'closed' | 'half_open'; to: 'open'; at: number; reason: OpenReason; kind: FailureKind; reopensAt: number; cooldownMs: number; misconfigured: boolean }
  | { from: 'half_open'; to: 'closed'; at: number };

export type BreakerTransition = BreakerChange & { targetId: string };

/** A step's result. `next === state` (the same object) means nothing changed: nothing to write. */
export interface Step<R> {
  next: BreakerState;
  result: R;
}

/** Whether a call may go to the target now; while half-open, admitting takes a probe slot. */
export function admitStep(state: BreakerState, now: number, config: BreakerConfig): Step<Admission> {
  switch (state.phase) {
    case 'closed':
      return { next: state, result: { admitted: true, probe: false, state: 'closed' } };
    case 'open':
      if (now < state.reopensAt) return { next: state, result: { admitted: false, reopensAt: state.reopensAt, reason: state.reason, kind: state.kind } };
      return {
        next: { phase: 'half_open', reason: state.reason, kind: state.kind, cooldownMs: state.cooldownMs, probeLeases: [now + config.probeLeaseMs], successes: 0 },
        result: { admitted: true, probe: true, state: 'half_open' },
      };
    case 'half_open': {
      const live = state.probeLeases.filter((expiry) => expiry > now);
      if (live.length >= config.halfOpenProbes) {
        return { next: state, result: { admitted: false, reopensAt: Math.min(...live), reason: state.reason, kind: state.kind } };
      }
      return { next: { ...state, probeLeases: [...live, now + config.probeLeaseMs] }, result: { admitted: true, probe: true, state: 'half_open' } };
    }
    default:
      return assertNever(state);
  }
}

/** Applies one attempt's outcome; `probe` is what `admitStep` said when the attempt was admitted. */
export function recordStep(state: BreakerState, outcome: BreakerOutcome, probe: boolean, now: number, config: BreakerConfig): Step<BreakerChange | undefined> {
  const event = classify(outcome);
  switch (state.phase) {
    case 'closed':
      return closedStep(state, event, now, config);
    case 'open':
      return { next: state, result: undefined };
    case 'half_open':
      return probe ? halfOpenStep(state, event, now, config) : { next: state, result: undefined };
    default:
      return assertNever(state);
  }
}

/** Frees the probe slot of an attempt that ended without an outcome (the client went away). */
export function releaseStep(state: BreakerState, probe: boolean): Step<void> {
  if (!probe || state.phase !== 'half_open') return { next: state, result: undefined };
  return { next: releaseLease(state), result: undefined };
}

/** An open period ended early by an active health probe (health-probes.ts). */
export interface HealthProbeChange {
  from: 'open';
  to: 'half_open';
  at: number;
}

/**
 * An active health probe (health-probes.ts, off unless `breaker.probes` is configured) got an
 * answer from a target whose circuit is open: the open period ends now and the breaker goes
 * half-open with no probe in flight, so real requests confirm the recovery as usual (at most
 * `halfOpenProbes` at once, `successThreshold` successes to close; a failure reopens it for twice
 * the period). Applies only to the open period the health probe was sent in (`openedAt`); a
 * breaker that moved on since (reopened, half-open, closed) or whose period is over anyway is
 * left as it is. A failed health probe has no step: it changes nothing.
 */
export function healthProbeSucceededStep(state: BreakerState, openedAt: number, now: number): Step<HealthProbeChange | undefined> {
  if (state.phase !== 'open' || state.openedAt !== openedAt || now >= state.reopensAt) return { next: state, result: undefined };
  return {
    next: { phase: 'half_open', reason: state.reason, kind: state.kind, cooldownMs: state.cooldownMs, probeLeases: [], successes: 0 },
    result: { from: 'open', to: 'half_open', at: now },
  };
}

/** The breaker's phase as seen at `now`: an open breaker past its `reopensAt` reads as half-open (the next admit probes). */
export function phaseAt(state: BreakerState, now: number): BreakerPhase {
  return state.phase === 'open' && now >= state.reopensAt ? 'half_open' : state.phase;
}

/** An outcome as the breaker sees it. */
type BreakerEvent = { feed: 'success' } | { feed: 'ignore' } | { feed: 'failure' | 'trip'; kind: FailureKind; retryAfterMs: number | undefined };

function classify(outcome: BreakerOutcome): BreakerEvent {
  if (outcome.ok) return { feed: 'success' };
  const feed = feedsBreaker(outcome.kind);
  return feed === 'ignore' ? { feed } : { feed, kind: outcome.kind, retryAfterMs: outcome.retryAfterMs };
}

function closedStep(state: ClosedBreaker, event: BreakerEvent, now: number, config: BreakerConfig): Step<BreakerChange | undefined> {
  switch (event.feed) {
    case 'ignore':
      return { next: state, result: undefined };
    case 'trip':
      return open('closed', event.kind, event.kind, true, config.misconfiguredCooldownMs, event.retryAfterMs, now);
    case 'success': {
      const settled = state.outcomes.length >= config.window && state.consecutiveFailures === 0 && !state.outcomes.includes('failed');
      if (settled) return { next: state, result: undefined }; // a healthy target's hot path writes nothing
      return { next: { phase: 'closed', outcomes: push(state.outcomes, 'ok', config.window), consecutiveFailures: 0 }, result: undefined };
    }
    case 'failure': {
      const outcomes = push(state.outcomes, 'failed', config.window);
      const consecutiveFailures = state.consecutiveFailures + 1;
      if (consecutiveFailures >= config.consecutiveFailures) return open('closed', 'consecutive_failures', event.kind, false, config.cooldownMs, event.retryAfterMs, now);
      const failed = outcomes.filter((o) => o === 'failed').length;
      if (outcomes.length >= config.minRequests && failed / outcomes.length >= config.failureRate) {
        return open('closed', 'failure_rate', event.kind, false, config.cooldownMs, event.retryAfterMs, now);
      }
      return { next: { phase: 'closed', outcomes, consecutiveFailures }, result: undefined };
    }
    default:
      return assertNever(event);
  }
}

function halfOpenStep(state: HalfOpenBreaker, event: BreakerEvent, now: number, config: BreakerConfig): Step<BreakerChange | undefined> {
  switch (event.feed) {
    case 'ignore': // the probe told us nothing: free its slot for another
      return { next: releaseLease(state), result: undefined };
    case 'success':
      if (state.successes + 1 >= config.successThreshold) return { next: freshBreaker(), result: { from: 'half_open', to: 'closed', at: now } };
      return { next: { ...releaseLease(state), successes: state.successes + 1 }, result: undefined };
    case 'trip':
      return open('half_open', event.kind, event.kind, true, config.misconfiguredCooldownMs, event.retryAfterMs, now);
    case 'failure': {
      const doubled = Math.max(config.cooldownMs, Math.min(state.cooldownMs * 2, config.maxCooldownMs));
      return open('half_open', event.kind, event.kind, false, doubled, event.retryAfterMs, now);
    }
    default:
      return assertNever(event);
  }
}

/** Opens for `max(baseMs, retryAfterMs)`: a provider that named a longer wait is not probed before it. */
function open(
  from: 'closed' | 'half_open',
  reason: OpenReason,
  kind: FailureKind,
  misconfigured: boolean,
  baseMs: number,
  retryAfterMs: number | undefined,
  now: number,
): Step<BreakerChange> {
  const cooldownMs = Math.max(baseMs, retryAfterMs ?? 0);
  const next: OpenBreaker = { phase: 'open', reason, kind, openedAt: now, reopensAt: now + cooldownMs, cooldownMs };
  return { next, result: { from, to: 'open', at: now, reason, kind, reopensAt: next.reopensAt, cooldownMs, misconfigured } };
}

/** Drops the probe lease that runs out first (leases are interchangeable). */
function releaseLease(state: HalfOpenBreaker): HalfOpenBreaker {
  if (state.probeLeases.length === 0) return state;
  const sorted = [...state.probeLeases].sort((a, b) => a - b);
  return { ...state, probeLeases: sorted.slice(1) };
}

function push<T>(items: readonly T[], item: T, max: number): T[] {
  const next = [...items, item];
  return next.length > max ? next.slice(next.length - max) : next;
}

function assertNever(value: never): never {
  throw new Error(`unhandled value: ${JSON.stringify(value)}`);
}
