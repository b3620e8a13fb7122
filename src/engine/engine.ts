import type { ChatChunk, ChatRequest, ChatResponse } from '../canonical/chat.js';
import { chunkHasOutput, responseToChunks } from '../canonical/chunks.js';
import type { FailureDetails } from '../canonical/failure.js';
import type { UpstreamEvent } from '../providers/target.js';
import type { StateStore } from '../state/state-store.js';
import { allFailedError, stoppedError, type ClientError } from './all-failed.js';
import type { AttemptReason, AttemptRecord, RequestRecord } from './attempt.js';
import { asFailure, runAttempt } from './attempt-runner.js';
import { cannotServe } from './capability-check.js';
import { expandLadder, firstDegradation, type Candidate } from './candidates.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { decide } from './decide.js';
import type { Decision } from './decision.js';
import { DEFAULT_POLICY, type Policy, type Route, type StaticRung } from './route.js';
import { staticResponse, STATIC_TARGET } from './static-answer.js';
import { AttemptWatch, clientCancelled } from './watchdog.js';

export interface EngineOptions {
  state: StateStore;
  clock?: Clock;
  random?: () => number;
  /** Called exactly once per request, when it is over (after the last stream item). */
  onRecord?: (record: RequestRecord) => void;
}

export interface RunContext {
  requestId: string;
  stream: boolean;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
}

/** Who answered, as known when the answer was committed. */
export interface Served {
  route: string;
  servedBy: string;
  degraded: boolean;
  attempts: AttemptRecord[];
}

export type StreamItem =
  | { type: 'chunk'; chunk: ChatChunk }
  | { type: 'keepalive' }
  /** The stream failed after output was sent: end it with this error, never as a success. */
  | { type: 'error'; error: ClientError };

export type EngineResult =
  | { type: 'response'; served: Served; response: ChatResponse }
  | { type: 'stream'; served: Served; items: AsyncIterable<StreamItem> }
  | { type: 'error'; error: ClientError; attempts: AttemptRecord[] };

/** Walks a route's ladder for one request: a flat loop over an ordered plan, one decision per failure. */
export class Engine {
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  async run(route: Route, request: ChatRequest, ctx: RunContext): Promise<EngineResult> {
    const record: RequestRecord = {
      requestId: ctx.requestId,
      route: route.name,
      stream: ctx.stream,
      startedAt: this.clock.now(),
      endedAt: 0,
      status: 0,
      degraded: false,
      attempts: [],
    };
    const attempts = record.attempts;
    const deadlineAt = record.startedAt + route.deadlineMs;
    const candidates = expandLadder(route.ladder, this.random);
    const includeUsage = request.stream_options?.include_usage === true;
    const skipModels = new Set<string>();
    let retriesUsed = 0;
    let reason: AttemptReason = 'primary';
    let i = 0;

    while (i < candidates.length) {
      const candidate = candidates[i] as Candidate;
      if (candidate.kind === 'static') return this.serveStatic(candidate.rung, route, request, ctx, record);
      if (ctx.signal.aborted) return this.fail(record, stoppedError(clientCancelled().details));
      const target = candidate.target;
      const now = this.clock.now();
      if (now >= deadlineAt) {
        attempts.push(this.skipped(attempts, candidate, 'request deadline passed', { kind: 'deadline_exceeded', message: 'the request deadline passed' }));
        i = firstDegradation(candidates, i);
        continue;
      }
      if (skipModels.has(target.model)) {
        attempts.push(this.skipped(attempts, candidate, 'same model already exceeded its context window'));
        i++;
        continue;
      }
      const incapable = cannotServe(request, target.capabilities);
      if (incapable) {
        attempts.push(this.skipped(attempts, candidate, incapable));
        i++;
        continue;
      }
      const cooldown = await this.options.state.getCooldown(target.id, now);
      if (cooldown) {
        const remaining = cooldown.untilMs - now;
        attempts.push(
          this.skipped(attempts, candidate, `cooling down after ${cooldown.reason} for ${remaining} ms more`, {
            kind: cooldown.reason,
            message: 'cooling down',
            retryAfterMs: remaining,
          }),
        );
        i++;
        continue;
      }

      const watch = new AttemptWatch(this.clock, candidate.rung.timeouts, deadlineAt, target.streamsUpstream(ctx.stream), ctx.signal);
      const attempt: AttemptRecord = {
        ordinal: attempts.length + 1,
        target: target.id,
        rung: candidate.rungIndex,
        reason,
        outcome: 'ok',
        startedAt: watch.startedAt,
        endedAt: 0,
      };
      attempts.push(attempt);
      const result = await runAttempt(target, request, ctx.stream, includeUsage, watch);
      if (watch.headersAt !== undefined) attempt.headersAt = watch.headersAt;
      if (watch.firstOutputAt !== undefined) attempt.firstTokenAt = watch.firstOutputAt;

      if (result.ok) {
        if (result.droppedParams.length > 0) attempt.droppedParams = result.droppedParams;
        const served: Served = { route: route.name, servedBy: target.id, degraded: false, attempts };
        record.servedBy = target.id;
        if (result.mode === 'complete') {
          watch.dispose();
          attempt.endedAt = this.clock.now();
          this.finish(record, 200);
          return { type: 'response', served, response: result.response };
        }
        return { type: 'stream', served, items: this.streamOn(result.head, result.rest, watch, attempt, record) };
      }

      watch.dispose();
      const decision = this.recordFailure(attempt, result.failure, {
        retriesUsed,
        retriesAllowed: candidate.rung.retries,
        remainingMs: deadlineAt - this.clock.now(),
        committed: false,
        policy: route.policy,
      });
      if (decision.action === 'next_target' && decision.cooldownMs !== undefined) {
        await this.options.state.setCooldown(target.id, { untilMs: this.clock.now() + decision.cooldownMs, reason: result.failure.kind });
      }
      switch (decision.action) {
        case 'retry_same':
          try {
            await sleep(this.clock, decision.delayMs, ctx.signal);
          } catch {
            return this.fail(record, stoppedError(clientCancelled().details));
          }
          retriesUsed++;
          reason = 'retry';
          continue;
        case 'skip_to':
          skipModels.add(target.model);
          break;
        case 'next_target':
          break;
        case 'degrade':
          i = firstDegradation(candidates, i + 1);
          retriesUsed = 0;
          reason = 'fallback';
          continue;
        case 'stop':
          return this.fail(record, stoppedError(result.failure));
      }
      i++;
      retriesUsed = 0;
      reason = 'fallback';
    }
    return this.fail(record, allFailedError(route.name, attempts));
  }

  private recordFailure(
    attempt: AttemptRecord,
    failure: FailureDetails,
    ctx: { retriesUsed: number; retriesAllowed: number; remainingMs: number; committed: boolean; policy: Policy },
  ): Decision {
    attempt.outcome = 'failed';
    attempt.endedAt = this.clock.now();
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
        random: this.random(),
      },
      ctx.policy,
    );
    attempt.decision = { action: decision.action, rule: decision.rule };
    if (decision.action === 'retry_same') attempt.decision.delayMs = decision.delayMs;
    if (decision.action === 'next_target' && decision.cooldownMs !== undefined) attempt.decision.cooldownMs = decision.cooldownMs;
    return decision;
  }

  /** After the commit point: pass the rest through under the same watchdogs; a late failure ends the stream with an error. */
  private async *streamOn(
    head: ChatChunk[],
    rest: AsyncIterator<UpstreamEvent> | undefined,
    watch: AttemptWatch,
    attempt: AttemptRecord,
    record: RequestRecord,
  ): AsyncGenerator<StreamItem> {
    let settled = false;
    try {
      for (const chunk of head) yield { type: 'chunk', chunk };
      while (rest) {
        const next = await watch.within(rest.next(), 'body');
        if (next.done) break;
        const event = next.value;
        if (event.type === 'keepalive') {
          yield event;
        } else if (event.type === 'response') {
          for (const chunk of responseToChunks(event.response, true)) yield { type: 'chunk', chunk };
        } else {
          if (chunkHasOutput(event.chunk)) watch.markOutput();
          yield { type: 'chunk', chunk: event.chunk };
        }
      }
      settled = true;
      attempt.endedAt = this.clock.now();
    } catch (error) {
      settled = true;
      const failure = asFailure(error).details;
      watch.abort(asFailure(error));
      this.recordFailure(attempt, failure, { retriesUsed: 0, retriesAllowed: 0, remainingMs: 0, committed: true, policy: DEFAULT_POLICY });
      record.streamError = failure.kind;
      if (failure.kind !== 'client_cancelled') yield { type: 'error', error: midStreamError(failure, attempt.target) };
    } finally {
      if (!settled) {
        // The consumer stopped reading (client gone): abort the upstream call at once.
        watch.abort(clientCancelled());
        this.recordFailure(attempt, clientCancelled().details, { retriesUsed: 0, retriesAllowed: 0, remainingMs: 0, committed: true, policy: DEFAULT_POLICY });
        record.streamError = 'client_cancelled';
      }
      watch.dispose();
      this.finish(record, 200);
    }
  }

  private serveStatic(rung: StaticRung, route: Route, request: ChatRequest, ctx: RunContext, record: RequestRecord): EngineResult {
    const now = this.clock.now();
    record.attempts.push({
      ordinal: record.attempts.length + 1,
      target: STATIC_TARGET,
      rung: route.ladder.indexOf(rung),
      reason: record.attempts.length === 0 ? 'primary' : 'fallback',
      outcome: 'ok',
      startedAt: now,
      endedAt: now,
    });
    record.servedBy = STATIC_TARGET;
    record.degraded = true;
    const served: Served = { route: route.name, servedBy: STATIC_TARGET, degraded: true, attempts: record.attempts };
    const response = staticResponse(rung.content, ctx.requestId, now);
    if (!ctx.stream) {
      this.finish(record, 200);
      return { type: 'response', served, response };
    }
    const chunks = responseToChunks(response, request.stream_options?.include_usage === true);
    const finish = (): void => this.finish(record, 200);
    async function* items(): AsyncGenerator<StreamItem> {
      try {
        for (const chunk of chunks) yield { type: 'chunk', chunk };
      } finally {
        finish();
      }
    }
    return { type: 'stream', served, items: items() };
  }

  private skipped(attempts: AttemptRecord[], candidate: Candidate & { kind: 'live' }, why: string, failure?: FailureDetails): AttemptRecord {
    const now = this.clock.now();
    const skipped: AttemptRecord = {
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
      skipped.failure = { kind: failure.kind, message: failure.message };
      if (failure.retryAfterMs !== undefined) skipped.failure.retryAfterMs = failure.retryAfterMs;
    }
    return skipped;
  }

  private fail(record: RequestRecord, error: ClientError): EngineResult {
    this.finish(record, error.status);
    return { type: 'error', error, attempts: record.attempts };
  }

  private finish(record: RequestRecord, status: number): void {
    if (record.endedAt !== 0) return;
    record.status = status;
    record.endedAt = this.clock.now();
    this.options.onRecord?.(record);
  }
}

function midStreamError(failure: FailureDetails, target: string): ClientError {
  return {
    status: 502,
    message: `The answer from ${target} failed after output was sent (${failure.kind}: ${failure.message}). The streamed text is incomplete.`,
    type: 'server_error',
    code: failure.kind,
    param: null,
  };
}
