import { z } from 'zod';

/**
 * Scripted behaviours of a simulated model. Field names are snake_case so that a scenario can be
 * written verbatim in YAML/JSON config. Every optional field has a default applied at execution time.
 */

/** A normal completion. */
export interface OkScenario {
  kind: 'ok';
  /** Completion text (default `DEFAULT_TEXT`). */
  text?: string;
  /** Delay before the response headers (non-stream: before the whole body). Default 0. */
  latency_ms?: number;
  /** Stream only: split the text into exactly this many content chunks (default: one per word). */
  chunks?: number;
  /** Stream only: delay between consecutive content chunks. Default 0. */
  chunk_delay_ms?: number;
}
/** Stream: headers + role chunk at once, first content delta after `delay_ms`. Non-stream: whole response after `delay_ms`. */
export interface SlowFirstTokenScenario {
  kind: 'slow_first_token';
  delay_ms: number;
  text?: string;
}
/** 429 `rate_limit_exceeded`; retry headers only when given. */
export interface RateLimitScenario {
  kind: 'rate_limit';
  retry_after_s?: number;
  retry_after_ms?: number;
}
/** 429 `insufficient_quota` (not retryable, no Retry-After). */
export interface InsufficientQuotaScenario {
  kind: 'insufficient_quota';
}
/** Any 4xx/5xx status with a realistic OpenAI-shaped error body. */
export interface StatusScenario {
  kind: 'status';
  status: number;
  retry_after_s?: number;
  /** Overrides the default error message for that status. */
  message?: string;
}
/** The first `n` calls to the model execute `failure`, later ones `then`. */
export interface FailFirstScenario {
  kind: 'fail_first';
  n: number;
  failure: Scenario;
  then: Scenario;
}
/** Scheduled outages: down during the first `down_ms` of every `every_ms` period (measured from creation + `offset_ms`). */
export interface OutageScenario {
  kind: 'outage';
  down_ms: number;
  every_ms: number;
  offset_ms?: number;
  /** Default `{kind:'status', status:503}`. */
  failure?: Scenario;
  then: Scenario;
}
/** Connection reset right after the request is read. */
export interface ResetScenario {
  kind: 'reset';
}
/** Request read, never answered (held open until the client gives up or the simulator closes). */
export interface NoResponseScenario {
  kind: 'no_response';
}
/** Stream: role chunk + `after_chunks` content chunks, then the socket dies. Non-stream: half the body, then the socket dies. */
export interface CutScenario {
  kind: 'cut';
  after_chunks: number;
  text?: string;
}
/** Stream: `after_chunks` content chunks, silence for `stall_ms` (default forever), then the rest. Non-stream: delayed by `stall_ms`. */
export interface StallScenario {
  kind: 'stall';
  after_chunks: number;
  stall_ms?: number;
  text?: string;
}
/** Stream: an invalid JSON `data:` line after `after_chunks` good content chunks, then the rest. Non-stream: truncated JSON. */
export interface MalformedChunkScenario {
  kind: 'malformed_chunk';
  after_chunks: number;
  text?: string;
}
/** Stream: complete except for `data: [DONE]`, then a clean close. Non-stream: a normal response. */
export interface MissingDoneScenario {
  kind: 'missing_done';
  text?: string;
}
/** A completion whose content is the empty string. */
export interface EmptyScenario {
  kind: 'empty';
}
/** 400 `context_length_exceeded` (limit default 4096). */
export interface ContextWindowScenario {
  kind: 'context_window';
  limit?: number;
}
/** 400 Azure OpenAI prompt content filter (`type: null`, `code: content_filter`). */
export interface ContentFilterScenario {
  kind: 'content_filter';
}
/** 200 with a body that is neither JSON nor SSE. */
export interface GarbageScenario {
  kind: 'garbage';
  /** Default `<html><body><h1>502 Bad Gateway</h1></body></html>`. */
  body?: string;
}
/** 400 `invalid_value` on `temperature`. */
export interface InvalidRequestScenario {
  kind: 'invalid_request';
}
/** 400 `unsupported_parameter` on `max_tokens`. */
export interface UnsupportedParameterScenario {
  kind: 'unsupported_parameter';
}
/** 401 `invalid_api_key`. */
export interface AuthErrorScenario {
  kind: 'auth_error';
}

export type Scenario =
  | OkScenario
  | SlowFirstTokenScenario
  | RateLimitScenario
  | InsufficientQuotaScenario
  | StatusScenario
  | FailFirstScenario
  | OutageScenario
  | ResetScenario
  | NoResponseScenario
  | CutScenario
  | StallScenario
  | MalformedChunkScenario
  | MissingDoneScenario
  | EmptyScenario
  | ContextWindowScenario
  | ContentFilterScenario
  | GarbageScenario
  | InvalidRequestScenario
  | UnsupportedParameterScenario
  | AuthErrorScenario;

export type ScenarioKind = Scenario['kind'];

/** A scenario that directly produces a response (composites resolved away). */
export type LeafScenario = Exclude<Scenario, FailFirstScenario | OutageScenario>;

const ms = z.number().finite().nonnegative();
const count = z.number().int().nonnegative();
const text = z.string().optional();
const nested: z.ZodType<Scenario> = z.lazy(() => scenarioSchema);

/** Validates a scenario from YAML/JSON (snake_case keys, unknown keys rejected). */
export const scenarioSchema: z.ZodType<Scenario> = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('ok'),
    text,
    latency_ms: ms.optional(),
    chunks: z.number().int().positive().optional(),
    chunk_delay_ms: ms.optional(),
  }),
  z.strictObject({ kind: z.literal('slow_first_token'), delay_ms: ms, text }),
  z.strictObject({ kind: z.literal('rate_limit'), retry_after_s: ms.optional(), retry_after_ms: ms.optional() }),
  z.strictObject({ kind: z.literal('insufficient_quota') }),
  z.strictObject({
    kind: z.literal('status'),
    status: z.number().int().min(400).max(599),
    retry_after_s: ms.optional(),
    message: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('fail_first'), n: count, failure: nested, then: nested }),
  z.strictObject({
    kind: z.literal('outage'),
    down_ms: ms,
    every_ms: z.number().finite().positive(),
    offset_ms: z.number().finite().optional(),
    failure: nested.optional(),
    then: nested,
  }),
  z.strictObject({ kind: z.literal('reset') }),
  z.strictObject({ kind: z.literal('no_response') }),
  z.strictObject({ kind: z.literal('cut'), after_chunks: count, text }),
  z.strictObject({ kind: z.literal('stall'), after_chunks: count, stall_ms: ms.optional(), text }),
  z.strictObject({ kind: z.literal('malformed_chunk'), after_chunks: count, text }),
  z.strictObject({ kind: z.literal('missing_done'), text }),
  z.strictObject({ kind: z.literal('empty') }),
  z.strictObject({ kind: z.literal('context_window'), limit: z.number().int().positive().optional() }),
  z.strictObject({ kind: z.literal('content_filter') }),
  z.strictObject({ kind: z.literal('garbage'), body: z.string().optional() }),
  z.strictObject({ kind: z.literal('invalid_request') }),
  z.strictObject({ kind: z.literal('unsupported_parameter') }),
  z.strictObject({ kind: z.literal('auth_error') }),
]);
