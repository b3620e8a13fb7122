import type { FailureDetails } from '../canonical/failure.js';
import type { StateStore } from '../state/state-store.js';
import type { BreakerOutcome } from './breaker.js';
import type { CircuitBreakers } from './breakers.js';
import type { RetryBudget } from './retry-budget.js';
import { allFailedError, stoppedError, type ClientError } from './all-failed.js';
import type { AttemptReason, AttemptRecord, RequestRecord } from './attempt.js';
import type { LoadBalancer } from './balancer.js';
import { expandLadder, firstDegradation, type Candidate } from './candidates.js';
import { sleep, type Clock } from '../time/clock.js';
import { decide } from './decide.js';
import type { Decision } from './decision.js';
import type { Affinity } from './load-balance.js';
import type { CacheRung, Policy, Rung, StaticRung, TargetRef } from './route.js';
import { AttemptWatch, clientCancelled } from './watchdog.js';

/** What the walk uses of the engine: shared state, breakers, the retry budget, time and randomness (all injected). */
export interface WalkDeps {
  state: StateStore;
  breakers: CircuitBreakers;
  retryBudget: RetryBudget;
  /** Orders each rung's targets (load balancing, session affinity) and records what attempts tell of them. */
  balancer: LoadBalancer;
  clock: Clock;
  random: () => number;
}

/** What the walk needs of a route, chat or embeddings. */
export interface LadderPlan<T extends TargetRef> {
  name: string;
  ladder: readonly Rung<T>[];
  deadlineMs: number;
  policy: Policy;
  /** Session affinity; absent: none. */
  affinity?: Affinity | undefined;
}

/** One attempt up to its commit point: a value the caller can serve, or a classified failure. */
export type AttemptOutcome<V> = { ok: true; value: V; droppedParams: string[] } | { ok: false; failure: FailureDetails };

/** What differs between kinds of request: who can serve it, and how one attempt runs. */
export interface WalkJob<T extends TargetRef, V> {
  /** Why `target` cannot serve this request without changing the answer's meaning (it is skipped), or undefined. */
  cannotServe(target: T): string | undefined;
  /** Whether response headers arrive before generation (so `headers_ms` applies). */
  headersEarly(target: T): boolean;
  /** Targets with the same key serve the same model: one that exceeded its context window skips the others. */
  modelKey(target: T): string;
  /** Runs one attempt under `watch`; never throws. */
  attempt(target: T, watch: AttemptWatch): Promise<AttemptOutcome<V>>;
  /** The request's session key (session affinity), if it has one. */
  session?: string | undefined;
  /** A cache rung was reached: the stored answer to this very request, if there is one. */
  fromCache?(rung: CacheRung): Promise<string | undefined>;
}

export type WalkResult<T extends TargetRef, V> =
  /** A target committed: the caller serves `value`, ends `attempt` and disposes `watch`. */
  | { type: 'served'; target: T; value: V; attempt: AttemptRecord; watch: AttemptWatch }
  /** The walk reached a static rung. */
  | { type: 'static'; rung: StaticRung }
  /** The walk reached a cache rung that had the answer (stored as JSON). */
  | { type: 'cached'; rung: CacheRung; answer: string }
  | { type: 'failed'; error: ClientError };

/**
 * Walks a route's ladder for one request: a flat loop over an ordered plan, one decision per
 * failure, every attempt (and every skipped candidate) appended to `record.attempts`. Shared by
 * chat and embeddings; what an attempt *is* comes from `job`.
 */
export async function walkLadder<T extends TargetRef, V>(
  deps: WalkDeps,
  plan: LadderPlan<T>,
  record: RequestRecord,
  signal: AbortSignal,
  job: WalkJob<T, V>,
): Promise<WalkResult<T, V>> {
  const { clock, state } = deps;
  const attempts = record.attempts;
  const deadlineAt = record.startedAt + plan.deadlineMs;
  // One store read (or none) for every rung's ordering; see balancer.ts.
  const balance = await deps.balancer.prepare(plan, job.session, clock.now());
  const candidates = expandLadder(plan.ladder, deps.random, balance.signals);
  const skipModels = new Set<string>();
  let retriesUsed = 0;
  let reason: AttemptReason = 'primary';
  let firstAttemptCounted = false;
  let i = 0;

  while (i < candidates.length) {
    const candidate = candidates[i] as Candidate<T>;
    if (candidate.kind === 'static') return { type: 'static', rung: candidate.rung };
    if (candidate.kind === 'cache') {
      const answer = await job.fromCache?.(candidate.rung);
      if (answer !== undefined) return { type: 'cached', rung: candidate.rung, answer };
      i++;
      continue;
    }
    if (signal.aborted) return { type: 'failed', error: stoppedError(clientCancelled().details) };
    const target = candidate.target;
    const now = clock.now();
    if (now >= deadlineAt) {
      attempts.push(skipped(clock, attempts, candidate, 'request deadline passed', { kind: 'deadline_exceeded', message: 'the request deadline passed' }));
      i = firstDegradation(candidates, i);
      continue;
    }
    if (skipModels.has(job.modelKey(target))) {
      attempts.push(skipped(clock, attempts, candidate, 'same model already exceeded its context window'));
      i++;
      continue;
    }
    const incapable = job.cannotServe(target);
    if (incapable) {
      attempts.push(skipped(clock, attempts, candidate, incapable));
      i++;
      continue;
    }
    const cooldown = await state.getCooldown(target.id, now);
    if (cooldown) {
      const remaining = cooldown.untilMs - now;
      attempts.push(
        skipped(clock, attempts, candidate, `cooling down after ${cooldown.reason} for ${remaining} ms more`, {
          kind: cooldown.reason,
          message: 'cooling down',
          retryAfterMs: remaining,
        }),
      );
      i++;
      continue;
    }

    // Last of the checks: admitting may take a half-open breaker's probe slot.
    const admission = await deps.breakers.admit(target.id, now);
    if (!admission.admitted) {
      const remaining = Math.max(0, admission.reopensAt - now);
      attempts.push(
        skipped(clock, attempts, candidate, `circuit open (${admission.reason}) for ${remaining} ms more`, {
          kind: admission.kind,
          message: 'circuit open',
          retryAfterMs: remaining,
        }),
      );
      i++;
      continue;
    }
    if (!firstAttemptCounted) {
      firstAttemptCounted = true;
      await deps.retryBudget.recordFirstAttempt(plan.name, now);
    }

    const watch = new AttemptWatch(clock, candidate.rung.timeouts, deadlineAt, job.headersEarly(target), signal);
    const attempt: AttemptRecord = {
      ordinal: attempts.length + 1,
      target: target.id,
      rung: candidate.rungIndex,
      reason,
      outcome: 'ok',
      startedAt: watch.startedAt,
      endedAt: 0,
      breaker: admission.state,
    };
    attempts.push(attempt);
    deps.balancer.track(target.id, watch);
    const result = await job.attempt(target, watch);
    if (watch.headersAt !== undefined) attempt.headersAt = watch.headersAt;
    if (watch.firstOutputAt !== undefined) attempt.firstTokenAt = watch.firstOutputAt;

    if (result.ok) {
      if (result.droppedParams.length > 0) attempt.droppedParams = result.droppedParams;
      await feedBreaker(deps, attempt, { ok: true }, admission.probe);
      record.servedBy = target.id;
      deps.balancer.served(balance, target.id, clock.now());
      return { type: 'served', target, value: result.value, attempt, watch };
    }

    watch.dispose();
    const failureContext: FailureContext = {
      retriesUsed,
      retriesAllowed: candidate.rung.retries,
      remainingMs: deadlineAt - clock.now(),
      committed: false,
      policy: plan.policy,
    };
    let decision = recordFailure(deps, attempt, result.failure, failureContext);
    if (decision.action === 'retry_same' && !(await deps.retryBudget.tryAcquireRetry(plan.name, clock.now()))) {
      decision = recordFailure(deps, attempt, result.failure, { ...failureContext, retryBudgetExhausted: true });
    }
    await feedBreaker(deps, attempt, { ok: false, kind: result.failure.kind, retryAfterMs: result.failure.retryAfterMs }, admission.probe);
    if (decision.action === 'next_target' && decision.cooldownMs !== undefined) {
      await state.setCooldown(target.id, { untilMs: clock.now() + decision.cooldownMs, reason: result.failure.kind });
    }
    switch (decision.action) {
      case 'retry_same':
        try {
          await sleep(clock, decision.delayMs, signal);
        } catch {
          return { type: 'failed', error: stoppedError(clientCancelled().details) };
        }
        retriesUsed++;
        reason = 'retry';
        continue;
      case 'skip_to':
        if (decision.match === 'rung') {
          // Straight to the designated rung (e.g. a stronger model after a contract violation).
          i = firstOfRung(candidates, i + 1, decision.rung);
          retriesUsed = 0;
          reason = 'fallback';
          continue;
        }
        skipModels.add(job.modelKey(target));
        break;
      case 'next_target':
        break;
      case 'degrade':
        i = firstDegradation(candidates, i + 1);
        retriesUsed = 0;
        reason = 'fallback';
        continue;
      case 'stop':
        return { type: 'failed', error: stoppedError(result.failure) };
    }
    i++;
    retriesUsed = 0;
    reason = 'fallback';
  }
  return { type: 'failed', error: allFailedError(plan.name, attempts) };
}

export interface FailureContext {
  retriesUsed: number;
  retriesAllowed: number;
  remainingMs: number;
  committed: boolean;
  policy: Policy;
  retryBudgetExhausted?: boolean;
}

/**
 * Tells the target's breaker how an attempt went (a client's cancel only frees a probe slot), and
 * notes a change of phase on the attempt so the log says when a circuit opened or closed.
 */
export async function feedBreaker(deps: Pick<WalkDeps, 'breakers' | 'clock'>, attempt: AttemptRecord, outcome: BreakerOutcome, probe: boolean): Promise<void> {
  if (!outcome.ok && outcome.kind === 'client_cancelled') {
    await deps.breakers.release(attempt.target, probe);
    return;
  }
  const change = await deps.breakers.record(attempt.target, outcome, deps.clock.now(), probe);
  if (change) attempt.breakerChange = change;
}

/** Marks `attempt` failed with `failure`, asks `decide()` what follows, and records the decision on the attempt. */
export function recordFailure(deps: Pick<WalkDeps, 'clock' | 'random'>, attempt: AttemptRecord, failure: FailureDetails, ctx: FailureContext): Decision {
  attempt.outcome = 'failed';
  attempt.endedAt = deps.clock.now();
  attempt.failure = { kind: failure.kind, message: failure.message };
  if (failure.status !== undefined) attempt.failure.status = failure.status;
  if (failure.code !== undefined) attempt.failure.code = failure.code;
  if (failure.retryAfterMs !== undefined) attempt.failure.retryAfterMs = failure.retryAfterMs;
  const decision = decide(
    {
      failure,
      retriesUsed: ctx.retriesUsed,
      retriesAllowed: ctx.retriesAllowed,
      remainingMs: ctx.remainingMs,
      committed: ctx.committed,
      rung: attempt.rung,
      random: deps.random(),
      retryBudgetExhausted: ctx.retryBudgetExhausted === true,
    },
    ctx.policy,
  );
  attempt.decision = { action: decision.action, rule: decision.rule };
  if (decision.action === 'retry_same') attempt.decision.delayMs = decision.delayMs;
  if (decision.action === 'next_target' && decision.cooldownMs !== undefined) attempt.decision.cooldownMs = decision.cooldownMs;
  if (decision.action === 'skip_to' && decision.match === 'rung') attempt.decision.rung = decision.rung;
  return decision;
}

/** Index of the first candidate at or after `from` whose rung is `rung` or later (or the end). */
function firstOfRung<T extends TargetRef>(candidates: readonly Candidate<T>[], from: number, rung: number): number {
  for (let i = from; i < candidates.length; i++) if ((candidates[i]?.rungIndex ?? -1) >= rung) return i;
  return candidates.length;
}

function skipped<T extends TargetRef>(clock: Clock, attempts: AttemptRecord[], candidate: Candidate<T> & { kind: 'live' }, why: string, failure?: FailureDetails): AttemptRecord {
  const now = clock.now();
  const record: AttemptRecord = {
    ordinal: attempts.length + 1,
    target: candidate.target.id,
    rung: candidate.rungIndex,
    reason: 'fallback',
    outcome: 'skipped',
    startedAt: now,
    endedAt: now,
    skipReason: why,
  };
  if (failure) {
    record.failure = { kind: failure.kind, message: failure.message };
    if (failure.retryAfterMs !== undefined) record.failure.retryAfterMs = failure.retryAfterMs;
  }
  return record;
}

/** A fresh record for one request, before any attempt. */
export function newRequestRecord(requestId: string, route: string, stream: boolean, now: number): RequestRecord {
  return { requestId, route, stream, startedAt: now, endedAt: 0, status: 0, degraded: false, attempts: [] };
}

/** Ends the record once (the first call wins) and hands it to `onRecord`. */
export function finishRecord(record: RequestRecord, status: number, now: number, onRecord: ((record: RequestRecord) => void) | undefined): void {
  if (record.endedAt !== 0) return;
  record.status = status;
  record.endedAt = now;
  onRecord?.(record);
}
