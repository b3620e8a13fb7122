import { UpstreamFailure, type FailureDetails } from '../canonical/failure.js';
import type { StateStore } from '../state/state-store.js';
import type { BreakerOutcome } from './breaker.js';
import type { CircuitBreakers } from './breakers.js';
import type { RetryBudget } from './retry-budget.js';
import { allFailedError, stoppedError, type ClientError } from './all-failed.js';
import { attemptCount, type AttemptReason, type AttemptRecord, type RequestRecord } from './attempt.js';
import type { LoadBalancer } from './balancer.js';
import { expandLadder, firstDegradation, type Candidate } from './candidates.js';
import { sleep, type Clock } from '../time/clock.js';
import { decide } from './decide.js';
import type { Decision } from './decision.js';
import type { Affinity, Price } from './load-balance.js';
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
  /** Why this walk's attempts run (default: `primary`, then `fallback`); a continuation walk says `continuation`. */
  reason?: AttemptReason;
  /** Only live targets can serve (a continuation cannot splice a degraded answer on): degradation rungs are passed over. */
  liveOnly?: boolean;
  /** The most attempts after the request's first may cost (extra-cost.ts); undefined: no cap. */
  maxExtraCost?: number | undefined;
  /** An attempt's estimated cost on `target` at `price` (its rung's configured price, if any). */
  attemptCost?(target: T, price: Price | undefined): number;
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
  const moveReason: AttemptReason = job.reason ?? 'fallback';
  let reason: AttemptReason = job.reason ?? 'primary';
  // A continuation is not a new request: the budget's first attempt was counted by the walk that served it.
  let firstAttemptCounted = job.reason === 'continuation';
  /** Candidates up to this index have run or been skipped (a hedge runs a later candidate early). */
  let consumed = -1;

  /**
   * The checks before a live candidate may be called, cheapest first; a candidate that fails one
   * is recorded as skipped. Admitting (last) may take a half-open breaker's probe slot.
   */
  const admit = async (candidate: LiveCandidate<T>): Promise<Admitted | { skip: 'next' | 'deadline' }> => {
    const target = candidate.target;
    const now = clock.now();
    if (now >= deadlineAt) {
      attempts.push(skipped(clock, attempts, candidate, 'request deadline passed', { kind: 'deadline_exceeded', message: 'the request deadline passed' }));
      return { skip: 'deadline' };
    }
    if (skipModels.has(job.modelKey(target))) {
      attempts.push(skipped(clock, attempts, candidate, 'same model already exceeded its context window'));
      return { skip: 'next' };
    }
    const incapable = job.cannotServe(target);
    if (incapable) {
      attempts.push(skipped(clock, attempts, candidate, incapable));
      return { skip: 'next' };
    }
    let extraCost: number | undefined;
    if (job.maxExtraCost !== undefined && attemptCount(attempts) > 0) {
      extraCost = job.attemptCost?.(target, candidate.rung.balance?.targets.get(target.id)?.price) ?? 0;
      const spent = record.extraCost ?? 0;
      if (spent + extraCost > job.maxExtraCost) {
        const why = `it would cost about ${formatCost(extraCost)} more, past max_extra_cost ${formatCost(job.maxExtraCost)} (${formatCost(spent)} spent)`;
        attempts.push(skipped(clock, attempts, candidate, why, { kind: 'budget_exceeded', message: why }));
        return { skip: 'next' };
      }
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
      return { skip: 'next' };
    }
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
      return { skip: 'next' };
    }
    return { state: admission.state, probe: admission.probe, extraCost };
  };

  /** Starts one attempt: its watch, its record, and the promise of its outcome. */
  const launch = (index: number, candidate: LiveCandidate<T>, admitted: Admitted, why: AttemptReason): Running<T, V> => {
    const target = candidate.target;
    const watch = new AttemptWatch(clock, candidate.rung.timeouts, deadlineAt, job.headersEarly(target), signal);
    const attempt: AttemptRecord = {
      ordinal: attempts.length + 1,
      target: target.id,
      rung: candidate.rungIndex,
      reason: why,
      outcome: 'ok',
      startedAt: watch.startedAt,
      endedAt: 0,
      breaker: admitted.state,
    };
    attempts.push(attempt);
    if (admitted.extraCost !== undefined) record.extraCost = (record.extraCost ?? 0) + admitted.extraCost;
    deps.balancer.track(target.id, watch);
    const done = job.attempt(target, watch).then((result) => {
      if (watch.headersAt !== undefined) attempt.headersAt = watch.headersAt;
      if (watch.firstOutputAt !== undefined) attempt.firstTokenAt = watch.firstOutputAt;
      return result;
    });
    return { index, candidate, target, probe: admitted.probe, attempt, watch, done };
  };

  /** Records a failed attempt, asks `decide()`, feeds the breaker and sets a cooldown: everything but following the decision. */
  const settleFailure = async (run: Running<T, V>, failure: FailureDetails, hedgeInFlight: boolean): Promise<Decision> => {
    run.watch.dispose();
    const failureContext: FailureContext = {
      retriesUsed: run.index === consumedRetriesIndex ? retriesUsed : 0,
      retriesAllowed: run.candidate.rung.retries,
      remainingMs: deadlineAt - clock.now(),
      committed: false,
      policy: plan.policy,
      hedgeInFlight,
    };
    let decision = recordFailure(deps, run.attempt, failure, failureContext);
    if (decision.action === 'retry_same' && !(await deps.retryBudget.tryAcquireRetry(plan.name, clock.now()))) {
      decision = recordFailure(deps, run.attempt, failure, { ...failureContext, retryBudgetExhausted: true });
    }
    await feedBreaker(deps, run.attempt, { ok: false, kind: failure.kind, retryAfterMs: failure.retryAfterMs }, run.probe);
    if (decision.action === 'next_target' && decision.cooldownMs !== undefined) {
      await state.setCooldown(run.target.id, { untilMs: clock.now() + decision.cooldownMs, reason: failure.kind });
    }
    if (decision.action === 'skip_to' && decision.match === 'other_model') skipModels.add(job.modelKey(run.target));
    return decision;
  };

  /**
   * Hedging: a first attempt with no first token `hedgeAfterMs` after it started gets a partner —
   * the next admissible candidate, paid for from the retry budget — and the first of the two to
   * commit wins; the other is aborted (its upstream sees the connection close). A failure of one
   * while the other runs is recorded (its decision knows a partner is in flight) and the request
   * waits for the partner, unless the decision stops or degrades the request.
   */
  const runHedged = async (first: Running<T, V>, hedgeAfterMs: number): Promise<Finished<T, V>> => {
    const early = await raceTimer(clock, first.done, first.watch.startedAt + hedgeAfterMs);
    if (early.settled) return { run: first, result: early.value };
    if (first.watch.firstOutputAt !== undefined || signal.aborted) return { run: first, result: await first.done };
    let partner: Running<T, V> | undefined;
    for (let j = first.index + 1; j < candidates.length && !partner; j++) {
      const next = candidates[j] as Candidate<T>;
      if (next.kind !== 'live') break;
      const admitted = await admit(next);
      if ('skip' in admitted) {
        consumed = Math.max(consumed, j);
        if (admitted.skip === 'deadline') break;
        continue;
      }
      if (!(await deps.retryBudget.tryAcquireRetry(plan.name, clock.now()))) {
        // Over budget: no hedge; the admission is handed back and the candidate stays in line.
        await deps.breakers.release(next.target.id, admitted.probe);
        first.attempt.hedgeSkipped = 'retry budget exhausted';
        break;
      }
      partner = launch(j, next, admitted, 'hedge');
      consumed = Math.max(consumed, j);
    }
    if (!partner) return { run: first, result: await first.done };
    const pending = [first, partner];
    for (;;) {
      const { run, result } = await Promise.race(pending.map((r) => r.done.then((value) => ({ run: r, result: value }))));
      pending.splice(pending.indexOf(run), 1);
      if (result.ok || pending.length === 0) {
        for (const loser of pending) await loseHedge(deps, loser);
        return { run, result };
      }
      const decision = await settleFailure(run, result.failure, true);
      if (decision.action === 'stop' || decision.action === 'degrade') {
        for (const loser of pending) await loseHedge(deps, loser);
        return { run, result, decision };
      }
    }
  };

  let consumedRetriesIndex = -1;
  let i = 0;
  while (i < candidates.length) {
    const candidate = candidates[i] as Candidate<T>;
    if (candidate.kind !== 'live' && job.liveOnly) {
      i++;
      continue;
    }
    if (candidate.kind === 'static') return { type: 'static', rung: candidate.rung };
    if (candidate.kind === 'cache') {
      const answer = await job.fromCache?.(candidate.rung);
      if (answer !== undefined) return { type: 'cached', rung: candidate.rung, answer };
      i++;
      continue;
    }
    if (signal.aborted) return { type: 'failed', error: stoppedError(clientCancelled().details) };
    if (i <= consumed && retriesUsed === 0) {
      // Already run as a hedge partner, or skipped while looking for one.
      i++;
      continue;
    }
    const admitted = await admit(candidate);
    if ('skip' in admitted) {
      i = admitted.skip === 'deadline' ? firstDegradation(candidates, i) : i + 1;
      continue;
    }
    if (!firstAttemptCounted) {
      firstAttemptCounted = true;
      await deps.retryBudget.recordFirstAttempt(plan.name, clock.now());
    }

    consumedRetriesIndex = i;
    const first = launch(i, candidate, admitted, reason);
    const hedgeAfterMs = candidate.rung.hedgeAfterMs;
    const finished: Finished<T, V> = hedgeAfterMs === undefined ? { run: first, result: await first.done } : await runHedged(first, hedgeAfterMs);
    const { run, result } = finished;

    if (result.ok) {
      if (result.droppedParams.length > 0) run.attempt.droppedParams = result.droppedParams;
      await feedBreaker(deps, run.attempt, { ok: true }, run.probe);
      record.servedBy = run.target.id;
      deps.balancer.served(balance, run.target.id, clock.now());
      return { type: 'served', target: run.target, value: result.value, attempt: run.attempt, watch: run.watch };
    }

    const decision = finished.decision ?? (await settleFailure(run, result.failure, false));
    // Moving on continues after every candidate already run or skipped (a hedge partner included).
    const after = Math.max(run.index, consumed) + 1;
    switch (decision.action) {
      case 'retry_same':
        try {
          await sleep(clock, decision.delayMs, signal);
        } catch {
          return { type: 'failed', error: stoppedError(clientCancelled().details) };
        }
        if (run.index !== i) retriesUsed = 0;
        i = run.index;
        retriesUsed++;
        reason = 'retry';
        continue;
      case 'skip_to':
        if (decision.match === 'rung') {
          // Straight to the designated rung (e.g. a stronger model after a contract violation).
          i = firstOfRung(candidates, after, decision.rung);
          retriesUsed = 0;
          reason = moveReason;
          continue;
        }
        break;
      case 'next_target':
        break;
      case 'degrade':
        i = firstDegradation(candidates, after);
        retriesUsed = 0;
        reason = moveReason;
        continue;
      case 'stop':
      case 'continue': // only ever decided for a committed stream, which never reaches this walk
        return { type: 'failed', error: stoppedError(result.failure) };
    }
    i = after;
    retriesUsed = 0;
    reason = moveReason;
  }
  return { type: 'failed', error: allFailedError(plan.name, attempts) };
}

type LiveCandidate<T extends TargetRef> = Extract<Candidate<T>, { kind: 'live' }>;

/** A candidate allowed to run: the breaker's state at dispatch, and whether it took a probe slot. */
interface Admitted {
  state: 'closed' | 'half_open';
  probe: boolean;
  /** The attempt's estimated cost when it counts against `max_extra_cost`. */
  extraCost?: number | undefined;
}

function formatCost(value: number): string {
  return value.toFixed(6).replace(/\.?0+$/, '');
}

/** One attempt under way. */
interface Running<T extends TargetRef, V> {
  index: number;
  candidate: LiveCandidate<T>;
  target: T;
  probe: boolean;
  attempt: AttemptRecord;
  watch: AttemptWatch;
  done: Promise<AttemptOutcome<V>>;
}

/** How a step of the walk ended: the attempt that decides it, and — when it was already decided inside a hedge race — the decision. */
interface Finished<T extends TargetRef, V> {
  run: Running<T, V>;
  result: AttemptOutcome<V>;
  decision?: Decision;
}

/** `promise`'s value if it settles before `at` on `clock`; otherwise `{ settled: false }` at `at`. */
async function raceTimer<R>(clock: Clock, promise: Promise<R>, at: number): Promise<{ settled: true; value: R } | { settled: false }> {
  let cancel: () => void = () => undefined;
  const timer = new Promise<{ settled: false }>((resolve) => {
    cancel = clock.setTimer(() => resolve({ settled: false }), Math.max(0, at - clock.now()));
  });
  try {
    return await Promise.race([promise.then((value) => ({ settled: true as const, value })), timer]);
  } finally {
    cancel();
  }
}

/** The partner answered first: abort this attempt's upstream call, record it `lost`, hand back its probe slot. */
async function loseHedge<T extends TargetRef, V>(deps: Pick<WalkDeps, 'breakers' | 'clock'>, run: Running<T, V>): Promise<void> {
  run.watch.abort(new UpstreamFailure({ kind: 'client_cancelled', message: 'lost the hedge race: its partner answered first' }));
  await run.done;
  run.watch.dispose();
  run.attempt.outcome = 'lost';
  run.attempt.endedAt = deps.clock.now();
  await deps.breakers.release(run.target.id, run.probe);
}

export interface FailureContext {
  retriesUsed: number;
  retriesAllowed: number;
  remainingMs: number;
  committed: boolean;
  policy: Policy;
  retryBudgetExhausted?: boolean;
  /** A hedge partner of the failed attempt is still running. */
  hedgeInFlight?: boolean;
  /** A committed stream that another target may continue (decide.ts). */
  continuable?: boolean;
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
      continuable: ctx.continuable === true,
      hedgeInFlight: ctx.hedgeInFlight === true,
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
