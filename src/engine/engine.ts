import type { ChatChunk, ChatRequest, ChatResponse } from '../canonical/chat.js';
import { ChunkAssembler, chunkFinishes, chunkHasOutput, responseToChunks } from '../canonical/chunks.js';
import type { EmbeddingRequest } from '../canonical/embeddings.js';
import type { FailureDetails } from '../canonical/failure.js';
import { markContinued } from '../canonical/native.js';
import type { Target, UpstreamEvent } from '../providers/target.js';
import type { RequestFault } from '../providers/fault-injection.js';
import type { StateStore } from '../state/state-store.js';
import { allFailedError, type ClientError } from './all-failed.js';
import { ANONYMOUS_PARTITION, answerKey, cacheRungOf, cacheScope, readCachedAnswer, rememberAnswer } from './answer-cache.js';
import type { AttemptRecord, RequestRecord, Splice } from './attempt.js';
import { continuablePartial, continuationAllowed, continuationRequest, DEFAULT_CONTINUATION, type ContinuationRequest } from './continuation.js';
import { SeamJoiner } from './seam.js';
import { asFailure, runAttempt } from './attempt-runner.js';
import { cannotServe } from './capability-check.js';
import { contractFailure, contractFor, type RequestContract } from './contract.js';
import { measurePrompt, type PromptSize } from './prompt-size.js';
import { attemptCostEstimate, extraCostCap, outputTokenLimit, promptTokenEstimate } from './extra-cost.js';
import { systemClock, type Clock } from '../time/clock.js';
import { runEmbedding, type EmbedContext, type EmbedResult } from './embed.js';
import { CircuitBreakers } from './breakers.js';
import { LoadBalancer, sessionKey } from './balancer.js';
import { feedBreaker, finishRecord, newRequestRecord, recordFailure, walkLadder, type WalkDeps, type WalkJob } from './ladder-walk.js';
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
  /** The request's own `max_extra_cost` (`x-understudy-max-extra-cost`); it can only lower the route's. */
  maxExtraCost?: number | undefined;
  /** A fault the request carries (admin-only `x-understudy-fault` header), handed to every target call. */
  fault?: RequestFault | undefined;
  /** The request's virtual key id: named in the request record, and its degradation-cache partition (anonymous without one). */
  keyId?: string | undefined;
  /** Whether the request's key may use a target; one it may not is skipped (main and continuation walks). Absent: every target. */
  allowTarget?: ((targetId: string) => boolean) | undefined;
}

/** Why a target the request's key may not use is skipped. */
export const NOT_ALLOWED_FOR_KEY = 'not allowed for this API key';

/** Who answered: known when the answer was committed, updated if another target continues a stream. */
export interface Served {
  route: string;
  /** The target that finished the answer. */
  servedBy: string;
  degraded: boolean;
  attempts: AttemptRecord[];
  /** Every target whose output reached the client, in order, when a stream was continued. */
  contributors?: string[];
  splices?: Splice[];
}

/** One target's share of a stream: its committed head, the rest still coming, and its attempt. */
interface Segment {
  target: Target;
  head: ChatChunk[];
  rest: AsyncIterator<UpstreamEvent> | undefined;
  watch: AttemptWatch;
  attempt: AttemptRecord;
}

/** What a stream needs to know of its request while it runs. */
interface StreamSession {
  route: Route;
  request: ChatRequest;
  signal: AbortSignal;
  record: RequestRecord;
  served: Served;
  includeUsage: boolean;
  contract: RequestContract | undefined;
  /** Called with the assembled answer when the stream completes successfully (the degradation cache). */
  remember: ((response: ChatResponse) => void) | undefined;
  /** Another target may continue this stream if it fails after output. */
  continuable: boolean;
  /** The request's injected fault (admin header), which applies to a continuation's calls too. */
  fault: RequestFault | undefined;
  /** The request's cost cap on resilience, which a continuation counts against too. */
  maxExtraCost: number | undefined;
  /** The request's key's target allow-list, which a continuation walk obeys too. */
  allowTarget: ((targetId: string) => boolean) | undefined;
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
    if (ctx.keyId !== undefined) record.keyId = ctx.keyId;
    const includeUsage = request.stream_options?.include_usage === true;
    const prompt = await measurePrompt(request, smallestWindow(route));
    const contract = contractFor(request, route.contract);
    const cache = this.answerCache(route, request, ctx.keyId ?? ANONYMOUS_PARTITION);
    const maxExtraCost = extraCostCap(route.maxExtraCost, ctx.maxExtraCost);
    const walked = await walkLadder(this.deps, route, record, ctx.signal, {
      ...this.costCap(maxExtraCost, prompt, request),
      ...(cache ? { fromCache: () => this.deps.state.getCachedAnswer(cache.scope, cache.key, this.clock.now()) } : {}),
      cannotServe: (target: Target) => (ctx.allowTarget?.(target.id) === false ? NOT_ALLOWED_FOR_KEY : cannotServe(request, target.capabilities, prompt)),
      headersEarly: (target: Target) => target.streamsUpstream(ctx.stream),
      modelKey: (target: Target) => target.model,
      session: sessionKey(ctx.session, request.user),
      attempt: async (target: Target, watch: AttemptWatch) => {
        const result = await runAttempt(target, request, ctx.stream, includeUsage, watch, { refusalIsFailure: route.policy.fallbackOnContentPolicy, contract, fault: ctx.fault });
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
    const session: StreamSession = {
      route,
      request,
      signal: ctx.signal,
      fault: ctx.fault,
      allowTarget: ctx.allowTarget,
      record,
      served,
      includeUsage,
      // A `pass` stream's contract is checked when it ends (an answer held whole was checked before the commit).
      contract: result.rest ? contract : undefined,
      remember,
      // Only a stream still under way can fail after output; one held whole has nothing left to fail.
      continuable: result.rest !== undefined && continuationAllowed(request, route.continuation ?? DEFAULT_CONTINUATION),
      maxExtraCost,
    };
    return { type: 'stream', served, items: this.streamOn({ target, head: result.head, rest: result.rest, watch, attempt }, session) };
  }

  /** Walks an embeddings route's ladder for one request (non-streaming): the same walk, decisions and records as chat. */
  embed(route: EmbeddingRoute, request: EmbeddingRequest, ctx: EmbedContext): Promise<EmbedResult> {
    return runEmbedding({ ...this.deps, onRecord: this.options.onRecord }, route, request, ctx);
  }

  /**
   * After the commit point: pass the rest through under the same watchdogs. When the stream fails
   * after output and the request allows it, another target continues the answer (continuation.ts;
   * the seam is joined by seam.ts) and the client sees one stream; otherwise — or when no target
   * can continue — the stream ends with an error event, never as a truncated success. With a
   * contract (a `pass` stream), the answer is assembled as it streams and checked at its end.
   */
  private async *streamOn(first: Segment, s: StreamSession): AsyncGenerator<StreamItem> {
    let seg = first;
    let seam: SeamJoiner | undefined;
    let streamId = '';
    let settled = false;
    const assembler = s.contract || s.remember || s.continuable ? new ChunkAssembler() : undefined;
    try {
      for (;;) {
        try {
          for (const chunk of seg.head) {
            if (seam) {
              for (const out of joined(seam, chunk, streamId)) {
                assembler?.add(out);
                yield { type: 'chunk', chunk: out };
              }
              continue;
            }
            if (!streamId) streamId = chunk.id;
            assembler?.add(chunk);
            yield { type: 'chunk', chunk };
          }
          while (seg.rest) {
            const next = await seg.watch.within(seg.rest.next(), 'body');
            if (next.done) break;
            const event = next.value;
            if (event.type === 'keepalive') {
              yield event;
              continue;
            }
            const chunks = event.type === 'response' ? responseToChunks(event.response, true) : [event.chunk];
            for (const chunk of chunks) {
              if (chunkHasOutput(chunk)) seg.watch.markOutput();
              if (seam) {
                for (const out of joined(seam, chunk, streamId)) {
                  assembler?.add(out);
                  yield { type: 'chunk', chunk: out };
                }
                continue;
              }
              assembler?.add(chunk);
              yield { type: 'chunk', chunk };
            }
          }
          for (const out of seam?.end() ?? []) {
            assembler?.add(out);
            yield { type: 'chunk', chunk: out };
          }
          const answer = assembler?.result();
          const violation = answer && s.contract?.check(answer);
          if (violation) throw contractFailure(violation);
          if (answer) s.remember?.(answer);
          settled = true;
          seg.attempt.endedAt = this.clock.now();
          return;
        } catch (error) {
          const failure = asFailure(error);
          const details = failure.details;
          seg.watch.abort(failure);
          seg.watch.dispose();
          const partial = s.continuable && assembler ? continuablePartial(assembler.result()) : undefined;
          const decision = recordFailure(this.deps, seg.attempt, details, {
            retriesUsed: 0,
            retriesAllowed: 0,
            remainingMs: 0,
            committed: true,
            policy: DEFAULT_POLICY,
            continuable: partial !== undefined,
          });
          // The commit already counted as a success; a failure mid-answer is the target's too.
          await feedBreaker(this.deps, seg.attempt, { ok: false, kind: details.kind, retryAfterMs: details.retryAfterMs }, false);
          if (decision.action === 'continue' && partial !== undefined) {
            const next = await this.continueStream(s, seg.target, partial);
            if (next) {
              seg = next.segment;
              seam = next.seam;
              continue;
            }
          }
          settled = true;
          s.record.streamError = details.kind;
          if (details.kind !== 'client_cancelled') yield { type: 'error', error: midStreamError(details, seg.attempt.target, decision.action === 'continue') };
          return;
        }
      }
    } finally {
      if (!settled) {
        // The consumer stopped reading (client gone): abort the upstream call at once.
        seg.watch.abort(clientCancelled());
        recordFailure(this.deps, seg.attempt, clientCancelled().details, { retriesUsed: 0, retriesAllowed: 0, remainingMs: 0, committed: true, policy: DEFAULT_POLICY });
        s.record.streamError = 'client_cancelled';
      }
      seg.watch.dispose();
      this.finish(s.record, 200);
    }
  }

  /**
   * Finds a target to continue a stream that failed after `partial` reached the client: the same
   * walk over the route's live rungs (breakers, cooldowns, capabilities, the deadline), skipping
   * the target that failed, each candidate given the partial answer the way it accepts it. Records
   * the splice; undefined when no target could continue.
   */
  private async continueStream(s: StreamSession, failed: Target, partial: string): Promise<{ segment: Segment; seam: SeamJoiner } | undefined> {
    const settings = s.route.continuation ?? DEFAULT_CONTINUATION;
    const prepared = new Map<boolean, ContinuationRequest>();
    const forTarget = (target: Target): ContinuationRequest => {
      const prefill = target.capabilities.prefill;
      let ready = prepared.get(prefill);
      if (!ready) {
        ready = continuationRequest(s.request, partial, prefill, settings);
        prepared.set(prefill, ready);
      }
      return ready;
    };
    const prompt = await measurePrompt(continuationRequest(s.request, partial, false, settings).request, smallestWindow(s.route));
    const walked = await walkLadder(this.deps, s.route, s.record, s.signal, {
      ...this.costCap(s.maxExtraCost, prompt, s.request),
      reason: 'continuation',
      liveOnly: true,
      cannotServe: (target: Target) =>
        target.id === failed.id
          ? 'its own stream just failed'
          : s.allowTarget?.(target.id) === false
            ? NOT_ALLOWED_FOR_KEY
            : cannotServe(forTarget(target).request, target.capabilities, prompt),
      headersEarly: (target: Target) => target.streamsUpstream(true),
      modelKey: (target: Target) => target.model,
      attempt: async (target: Target, watch: AttemptWatch) => {
        const result = await runAttempt(target, forTarget(target).request, true, s.includeUsage, watch, {
          refusalIsFailure: s.route.policy.fallbackOnContentPolicy,
          contract: undefined,
          fault: s.fault,
        });
        return result.ok ? { ok: true, value: result, droppedParams: result.droppedParams } : result;
      },
    });
    if (walked.type !== 'served') return undefined;
    const { target, value, attempt, watch } = walked;
    if (value.mode !== 'stream') {
      watch.dispose();
      return undefined;
    }
    const handed = forTarget(target);
    const splice: Splice = { from: failed.id, to: target.id, atChar: partial.length, mode: handed.mode, overlapChars: 0 };
    (s.record.splices ??= []).push(splice);
    const contributors = (s.record.contributors ??= [failed.id]);
    contributors.push(target.id);
    s.served.servedBy = target.id;
    s.served.contributors = contributors;
    s.served.splices = s.record.splices;
    const seam = new SeamJoiner(handed.said, handed.mode, handed.trimmed, settings.minOverlapChars, (overlap) => {
      splice.overlapChars = overlap;
    });
    return { segment: { target, head: value.head, rest: value.rest, watch, attempt }, seam };
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

  /** The walk's cost cap on resilience, when the request has one (extra-cost.ts). */
  private costCap(maxExtraCost: number | undefined, prompt: PromptSize, request: ChatRequest): Pick<WalkJob<Target, unknown>, 'maxExtraCost' | 'attemptCost'> {
    if (maxExtraCost === undefined) return {};
    const promptTokens = promptTokenEstimate(prompt);
    const outputTokens = outputTokenLimit(request);
    return { maxExtraCost, attemptCost: (_target, price) => attemptCostEstimate(price, promptTokens, outputTokens) };
  }

  /** Where this request's answer is cached, when the route has a cache rung. */
  private answerCache(route: Route, request: ChatRequest, partition: string): { rung: CacheRung; scope: string; key: string } | undefined {
    const rung = cacheRungOf(route);
    return rung ? { rung, scope: cacheScope(route.name, partition), key: answerKey(request) } : undefined;
  }

  private fail(record: RequestRecord, error: ClientError): EngineResult {
    this.finish(record, error.status);
    return { type: 'error', error, attempts: record.attempts };
  }

  private finish(record: RequestRecord, status: number): void {
    finishRecord(record, status, this.clock.now(), this.options.onRecord);
  }
}

function midStreamError(failure: FailureDetails, target: string, continuationFailed: boolean): ClientError {
  const consequence = failure.kind === 'contract_violation' ? 'The streamed answer breaks the output contract: do not use it.' : 'The streamed text is incomplete.';
  const tried = continuationFailed ? ' No other target could continue it.' : '';
  return {
    status: 502,
    message: `The answer from ${target} failed after output was sent (${failure.kind}: ${failure.message}).${tried} ${consequence}`,
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

/** A continuation's chunk as part of the client's one stream: the stream's id, no second role delta; undefined when nothing is left. */
function asContinuation(chunk: ChatChunk, id: string): ChatChunk | undefined {
  const first = chunk.choices[0];
  if (!first || first.delta.role === undefined) return { ...chunk, id };
  const { role: _role, ...delta } = first.delta;
  const out: ChatChunk = { ...chunk, id, choices: [{ ...first, delta }, ...chunk.choices.slice(1)] };
  return chunkHasOutput(out) || chunkFinishes(out) || out.usage ? out : undefined;
}

/** The chunks to send for a continuation's `chunk`, through the seam. */
function joined(seam: SeamJoiner, chunk: ChatChunk, id: string): ChatChunk[] {
  const continued = asContinuation(chunk, id);
  if (!continued) return [];
  const out = seam.push(continued);
  for (const c of out) markContinued(c);
  return out;
}
