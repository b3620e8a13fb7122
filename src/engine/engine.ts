import type { ChatChunk, ChatRequest, ChatResponse } from '../canonical/chat.js';
import { ChunkAssembler, chunkHasOutput, responseToChunks } from '../canonical/chunks.js';
import type { EmbeddingRequest } from '../canonical/embeddings.js';
import type { FailureDetails } from '../canonical/failure.js';
import type { Target, UpstreamEvent } from '../providers/target.js';
import type { StateStore } from '../state/state-store.js';
import { allFailedError, type ClientError } from './all-failed.js';
import { ANONYMOUS_PARTITION, answerKey, cacheRungOf, cacheScope, readCachedAnswer, rememberAnswer } from './answer-cache.js';
import type { AttemptRecord, RequestRecord } from './attempt.js';
import { asFailure, runAttempt } from './attempt-runner.js';
import { cannotServe } from './capability-check.js';
import { contractFailure, contractFor, type RequestContract } from './contract.js';
import { measurePrompt } from './prompt-size.js';
import { systemClock, type Clock } from '../time/clock.js';
import { runEmbedding, type EmbedContext, type EmbedResult } from './embed.js';
import { CircuitBreakers } from './breakers.js';
import { LoadBalancer, sessionKey } from './balancer.js';
import { feedBreaker, finishRecord, newRequestRecord, recordFailure, walkLadder, type WalkDeps } from './ladder-walk.js';
import { RetryBudget } from './retry-budget.js';
import { DEFAULT_POLICY, type CacheRung, type DegradationRung, type EmbeddingRoute, type Route } from './route.js';
import { CACHE_TARGET, cachedResponse, staticResponse, STATIC_TARGET } from './static-answer.js';
import { clientCancelled, type AttemptWatch } from './watchdog.js';

export interface EngineOptions {
  state: StateStore;
  clock?: Clock;
  random?: () => number;
  /** Circuit breakers per target; default thresholds over `state` when unset. */
  breakers?: CircuitBreakers;
  /** Retries + hedges as a share of first attempts, per route and fleet-wide; defaults over `state` when unset. */
  retryBudget?: RetryBudget;
  /** Called exactly once per request, when it is over (after the last stream item). */
  onRecord?: (record: RequestRecord) => void;
}

export interface RunContext {
  requestId: string;
  stream: boolean;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** The `x-understudy-session` header (session affinity; the request's `user` stands in without it). */
  session?: string | undefined;
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
  private readonly deps: WalkDeps;

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.deps = {
      state: options.state,
      breakers: options.breakers ?? new CircuitBreakers(options.state),
      retryBudget: options.retryBudget ?? new RetryBudget(options.state),
      balancer: new LoadBalancer(options.state, this.clock),
      clock: this.clock,
      random: this.random,
    };
  }

  async run(route: Route, request: ChatRequest, ctx: RunContext): Promise<EngineResult> {
    const record = newRequestRecord(ctx.requestId, route.name, ctx.stream, this.clock.now());
    const includeUsage = request.stream_options?.include_usage === true;
    const prompt = await measurePrompt(request, smallestWindow(route));
    const contract = contractFor(request, route.contract);
    const cache = this.answerCache(route, request);
    const walked = await walkLadder(this.deps, route, record, ctx.signal, {
      ...(cache ? { fromCache: () => this.deps.state.getCachedAnswer(cache.scope, cache.key, this.clock.now()) } : {}),
      cannotServe: (target: Target) => cannotServe(request, target.capabilities, prompt),
      headersEarly: (target: Target) => target.streamsUpstream(ctx.stream),
      modelKey: (target: Target) => target.model,
      session: sessionKey(ctx.session, request.user),
      attempt: async (target: Target, watch: AttemptWatch) => {
        const result = await runAttempt(target, request, ctx.stream, includeUsage, watch, { refusalIsFailure: route.policy.fallbackOnContentPolicy, contract });
        return result.ok ? { ok: true, value: result, droppedParams: result.droppedParams } : result;
      },
    });
    if (walked.type === 'static') {
      return this.serveDegraded(staticResponse(walked.rung.content, ctx.requestId, this.clock.now()), STATIC_TARGET, route, walked.rung, request, ctx, record);
    }
    if (walked.type === 'cached') {
      const cached = readCachedAnswer(walked.answer);
      if (cached) return this.serveDegraded(cachedResponse(cached), CACHE_TARGET, route, walked.rung, request, ctx, record);
      return this.fail(record, allFailedError(route.name, record.attempts));
    }
    if (walked.type === 'failed') return this.fail(record, walked.error);

    const { target, value: result, attempt, watch } = walked;
    const served: Served = { route: route.name, servedBy: target.id, degraded: false, attempts: record.attempts };
    const remember = cache ? (response: ChatResponse) => rememberAnswer(this.deps.state, cache.scope, cache.key, cache.rung, response, this.clock.now()) : undefined;
    if (result.mode === 'complete') {
      watch.dispose();
      attempt.endedAt = this.clock.now();
      remember?.(result.response);
      this.finish(record, 200);
      return { type: 'response', served, response: result.response };
    }
    // A `pass` stream's contract is checked when it ends (an answer held whole was checked before the commit).
    const endCheck = result.rest ? contract : undefined;
    return { type: 'stream', served, items: this.streamOn(result.head, result.rest, watch, attempt, record, endCheck, remember) };
  }

  /** Walks an embeddings route's ladder for one request (non-streaming): the same walk, decisions and records as chat. */
  embed(route: EmbeddingRoute, request: EmbeddingRequest, ctx: EmbedContext): Promise<EmbedResult> {
    return runEmbedding({ ...this.deps, onRecord: this.options.onRecord }, route, request, ctx);
  }

  /**
   * After the commit point: pass the rest through under the same watchdogs; a late failure ends the
   * stream with an error. With `contract` (a `pass` stream), the answer is assembled as it streams
   * and checked at its end: a violation ends the stream with an error event, never as a success.
   */
  private async *streamOn(
    head: ChatChunk[],
    rest: AsyncIterator<UpstreamEvent> | undefined,
    watch: AttemptWatch,
    attempt: AttemptRecord,
    record: RequestRecord,
    contract: RequestContract | undefined,
    /** Called with the assembled answer when the stream completes successfully (the degradation cache). */
    remember?: (response: ChatResponse) => void,
  ): AsyncGenerator<StreamItem> {
    let settled = false;
    const assembler = contract || remember ? new ChunkAssembler() : undefined;
    try {
      for (const chunk of head) {
        assembler?.add(chunk);
        yield { type: 'chunk', chunk };
      }
      while (rest) {
        const next = await watch.within(rest.next(), 'body');
        if (next.done) break;
        const event = next.value;
        if (event.type === 'keepalive') {
          yield event;
        } else if (event.type === 'response') {
          for (const chunk of responseToChunks(event.response, true)) {
            assembler?.add(chunk);
            yield { type: 'chunk', chunk };
          }
        } else {
          if (chunkHasOutput(event.chunk)) watch.markOutput();
          assembler?.add(event.chunk);
          yield { type: 'chunk', chunk: event.chunk };
        }
      }
      const answer = assembler?.result();
      const violation = answer && contract?.check(answer);
      if (violation) throw contractFailure(violation);
      if (answer) remember?.(answer);
      settled = true;
      attempt.endedAt = this.clock.now();
    } catch (error) {
      settled = true;
      const failure = asFailure(error).details;
      watch.abort(asFailure(error));
      recordFailure(this.deps, attempt, failure, { retriesUsed: 0, retriesAllowed: 0, remainingMs: 0, committed: true, policy: DEFAULT_POLICY });
      // The commit already counted as a success; a failure mid-answer is the target's too.
      await feedBreaker(this.deps, attempt, { ok: false, kind: failure.kind, retryAfterMs: failure.retryAfterMs }, false);
      record.streamError = failure.kind;
      if (failure.kind !== 'client_cancelled') yield { type: 'error', error: midStreamError(failure, attempt.target) };
    } finally {
      if (!settled) {
        // The consumer stopped reading (client gone): abort the upstream call at once.
        watch.abort(clientCancelled());
        recordFailure(this.deps, attempt, clientCancelled().details, { retriesUsed: 0, retriesAllowed: 0, remainingMs: 0, committed: true, policy: DEFAULT_POLICY });
        record.streamError = 'client_cancelled';
      }
      watch.dispose();
      this.finish(record, 200);
    }
  }

  /** A degradation rung answered (static text, or the cache): marked degraded in headers, body and record. */
  private serveDegraded(
    response: ChatResponse,
    servedBy: string,
    route: Route,
    rung: DegradationRung,
    request: ChatRequest,
    ctx: RunContext,
    record: RequestRecord,
  ): EngineResult {
    const now = this.clock.now();
    record.attempts.push({
      ordinal: record.attempts.length + 1,
      target: servedBy,
      rung: route.ladder.indexOf(rung),
      reason: record.attempts.length === 0 ? 'primary' : 'fallback',
      outcome: 'ok',
      startedAt: now,
      endedAt: now,
    });
    record.servedBy = servedBy;
    record.degraded = true;
    const served: Served = { route: route.name, servedBy, degraded: true, attempts: record.attempts };
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

  /** Where this request's answer is cached, when the route has a cache rung. */
  private answerCache(route: Route, request: ChatRequest): { rung: CacheRung; scope: string; key: string } | undefined {
    const rung = cacheRungOf(route);
    return rung ? { rung, scope: cacheScope(route.name, ANONYMOUS_PARTITION), key: answerKey(request) } : undefined;
  }

  private fail(record: RequestRecord, error: ClientError): EngineResult {
    this.finish(record, error.status);
    return { type: 'error', error, attempts: record.attempts };
  }

  private finish(record: RequestRecord, status: number): void {
    finishRecord(record, status, this.clock.now(), this.options.onRecord);
  }
}

function midStreamError(failure: FailureDetails, target: string): ClientError {
  const consequence = failure.kind === 'contract_violation' ? 'The streamed answer breaks the output contract: do not use it.' : 'The streamed text is incomplete.';
  return {
    status: 502,
    message: `The answer from ${target} failed after output was sent (${failure.kind}: ${failure.message}). ${consequence}`,
    type: 'server_error',
    code: failure.kind,
    param: null,
  };
}

/** The smallest context window any live target of the route declares (undefined when none does). */
function smallestWindow(route: Route): number | undefined {
  let smallest: number | undefined;
  for (const rung of route.ladder) {
    if (rung.type !== 'targets') continue;
    for (const target of rung.targets) {
      const window = target.capabilities.maxContextTokens;
      if (window !== undefined && (smallest === undefined || window < smallest)) smallest = window;
    }
  }
  return smallest;
}
