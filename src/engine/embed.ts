import type { EmbeddingRequest, EmbeddingResponse } from '../canonical/embeddings.js';
import { UpstreamFailure } from '../canonical/failure.js';
import type { EmbeddingTarget } from '../providers/embedding-target.js';
import { allFailedError, type ClientError } from './all-failed.js';
import type { AttemptRecord, RequestRecord } from './attempt.js';
import { asFailure } from './attempt-runner.js';
import { cannotEmbed, embeddingProblem } from './embedding-check.js';
import type { Served } from './engine.js';
import { finishRecord, newRequestRecord, walkLadder, type AttemptOutcome, type WalkDeps } from './ladder-walk.js';
import type { EmbeddingRoute } from './route.js';
import { vectorSpaceOf } from './vector-space.js';
import type { AttemptWatch } from './watchdog.js';

export interface EmbedDeps extends WalkDeps {
  /** Called exactly once per request, when it is over. */
  onRecord?: ((record: RequestRecord) => void) | undefined;
}

export interface EmbedContext {
  requestId: string;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** The request's virtual key id, named in the request record. */
  keyId?: string | undefined;
  /** Whether the request's key may use a target; one it may not is skipped. Absent: every target. */
  allowTarget?: ((targetId: string) => boolean) | undefined;
}

export type EmbedResult =
  | { type: 'response'; served: Served; response: EmbeddingResponse }
  | { type: 'error'; error: ClientError; attempts: AttemptRecord[] };

/**
 * One embeddings request over its route's ladder: the chat engine's walk (decisions, cooldowns,
 * deadline, records), with an attempt that is one non-streaming call whose vectors are checked
 * before anything is served. Targets of one vector space share a context-window skip.
 */
export async function runEmbedding(deps: EmbedDeps, route: EmbeddingRoute, request: EmbeddingRequest, ctx: EmbedContext): Promise<EmbedResult> {
  const record = newRequestRecord(ctx.requestId, route.name, false, deps.clock.now());
  if (ctx.keyId !== undefined) record.keyId = ctx.keyId;
  const walked = await walkLadder(deps, route, record, ctx.signal, {
    cannotServe: (target: EmbeddingTarget) => (ctx.allowTarget?.(target.id) === false ? 'not allowed for this API key' : cannotEmbed(request, target.capabilities)),
    // Headers of a non-streamed answer arrive after the work: `headers_ms` does not apply.
    headersEarly: () => false,
    modelKey: (target: EmbeddingTarget) => vectorSpaceOf(target.model, route.equivalentModels),
    attempt: (target: EmbeddingTarget, watch: AttemptWatch) => embedAttempt(target, request, watch),
  });
  if (walked.type !== 'served') {
    // An embeddings ladder has live rungs only, so the walk can only have failed.
    const error = forEmbeddings(walked.type === 'failed' ? walked.error : allFailedError(route.name, record.attempts));
    finishRecord(record, error.status, deps.clock.now(), deps.onRecord);
    return { type: 'error', error, attempts: record.attempts };
  }
  walked.watch.dispose();
  walked.attempt.endedAt = deps.clock.now();
  finishRecord(record, 200, deps.clock.now(), deps.onRecord);
  const served: Served = { route: route.name, servedBy: walked.target.id, degraded: false, attempts: record.attempts };
  return { type: 'response', served, response: walked.value };
}

/**
 * One call, then the vectors checked. Never throws. The answer is not streamed, so headers and
 * body are one wait (the 'headers' phase of a target whose headers come late): bounded by
 * `total_ms` and the request deadline, not by the first-token or stall limits of a stream.
 */
async function embedAttempt(target: EmbeddingTarget, request: EmbeddingRequest, watch: AttemptWatch): Promise<AttemptOutcome<EmbeddingResponse>> {
  try {
    const call = await watch.within(target.embed(request, { signal: watch.signal }), 'headers');
    watch.markHeaders(call.headers);
    const response = await watch.within(call.response(), 'headers');
    const problem = embeddingProblem(request, response);
    if (problem) throw new UpstreamFailure(problem);
    watch.markOutput();
    return { ok: true, value: response, droppedParams: call.droppedParams ?? [] };
  } catch (error) {
    const failure = asFailure(error);
    watch.abort(failure);
    return { ok: false, failure: failure.details };
  }
}

/** The all-failed answer names the embeddings request's own parameter. */
function forEmbeddings(error: ClientError): ClientError {
  return error.param === 'messages' ? { ...error, param: 'input' } : error;
}
