import { z } from 'zod';

/**
 * Scripted behaviours of a simulated model. Field names are snake_case so that a scenario can be
 * written verbatim in YAML/JSON config. Every optional field has a default applied at execution time.
 *
 * One script answers in every wire format the simulator speaks (OpenAI chat completions, Anthropic
 * Messages, Gemini generateContent); each kind has a faithful equivalent per format, noted below as
 * OpenAI / Anthropic / Gemini where they differ. "Content chunks" are text deltas (OpenAI `content`
 * deltas, Anthropic `content_block_delta`s, Gemini response chunks).
 */

/** A normal completion. A request that forces a tool call (OpenAI `tool_choice` required/named, Anthropic `tool_choice` any/tool, Gemini mode ANY) gets a call of that tool instead. */
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
/**
 * 429. OpenAI `rate_limit_exceeded` with `retry-after`/`retry-after-ms` only when given; Anthropic
 * `rate_limit_error` with `retry-after` (whole seconds); Gemini RESOURCE_EXHAUSTED with
 * `RetryInfo.retryDelay` (no header).
 */
export interface RateLimitScenario {
  kind: 'rate_limit';
  retry_after_s?: number;
  retry_after_ms?: number;
}
/**
 * Out of credit, not retryable: OpenAI 429 `insufficient_quota`; Anthropic 400 `invalid_request_error`
 * "Your credit balance is too low…"; Gemini 429 RESOURCE_EXHAUSTED on a per-day quota without RetryInfo.
 */
export interface InsufficientQuotaScenario {
  kind: 'insufficient_quota';
}
/** Any 4xx/5xx status with a realistic error body in the request's format (the HTTP status is used as given). */
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
/** Stream: head (role chunk / message_start…) + `after_chunks` content chunks, then the socket dies. Non-stream: half the body, then the socket dies. */
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
/** Stream: an event whose `data:` JSON is cut off after `after_chunks` good content chunks, then the rest. Non-stream: truncated JSON. */
export interface MalformedChunkScenario {
  kind: 'malformed_chunk';
  after_chunks: number;
  text?: string;
}
/**
 * Stream: complete except for the end-of-stream marker, then a clean close — OpenAI without `data: [DONE]`,
 * Anthropic without `message_stop`, Gemini without any `finishReason`. Non-stream: a normal response.
 */
export interface MissingDoneScenario {
  kind: 'missing_done';
  text?: string;
}
/** A completion whose content is the empty string (Anthropic: `content: []`, no content block). */
export interface EmptyScenario {
  kind: 'empty';
}
/**
 * 400, limit default 4096: OpenAI `context_length_exceeded`; Anthropic "prompt is too long: N tokens > M maximum";
 * Gemini INVALID_ARGUMENT "The input token count (N) exceeds the maximum number of tokens allowed (M)."
 */
export interface ContextWindowScenario {
  kind: 'context_window';
  limit?: number;
}
/**
 * OpenAI: 400 Azure OpenAI prompt content filter (`type: null`, `code: content_filter`). Anthropic: 200 with
 * `stop_reason: "refusal"` and `stop_details`. Gemini: 200 with `promptFeedback.blockReason: "SAFETY"`, no candidates.
 */
export interface ContentFilterScenario {
  kind: 'content_filter';
}
/** 200 with a body that is neither JSON nor SSE. */
export interface GarbageScenario {
  kind: 'garbage';
  /** Default `<html><body><h1>502 Bad Gateway</h1></body></html>`. */
  body?: string;
}
/** 400 on `temperature` (OpenAI `invalid_value`, Anthropic `invalid_request_error`, Gemini INVALID_ARGUMENT). */
export interface InvalidRequestScenario {
  kind: 'invalid_request';
}
/** 400 for a parameter the API does not know (OpenAI `unsupported_parameter`, Anthropic "Extra inputs are not permitted", Gemini "Unknown name"). */
export interface UnsupportedParameterScenario {
  kind: 'unsupported_parameter';
}
/** Bad key: OpenAI 401 `invalid_api_key`, Anthropic 401 `authentication_error`, Gemini 400 INVALID_ARGUMENT / `API_KEY_INVALID`. */
export interface AuthErrorScenario {
  kind: 'auth_error';
}
/**
 * Stream: `after_chunks` good content chunks, then the format's in-stream error event for `status`
 * (OpenAI `data: {"error":…}`, Anthropic `event: error`, Gemini `data: {"error":…}`) and a clean close.
 * Non-stream: the plain `status` error response.
 */
export interface MidstreamErrorScenario {
  kind: 'midstream_error';
  after_chunks: number;
  /** Default 529 (overloaded). */
  status?: number;
  /** Overrides the default error message for that status. */
  message?: string;
  text?: string;
}
/**
 * A tool call. When the request offers tools (or `name` is given), the answer calls the named tool
 * (default: the first tool of the request) with `arguments` (default: a small object satisfying the
 * tool's parameter schema), after optional `text`. Without tools and without `name`: a plain text answer.
 */
export interface ToolCallScenario {
  kind: 'tool_call';
  name?: string;
  arguments?: Record<string, unknown>;
  text?: string;
}
/**
 * JSON output: valid for the request's schema when it gives one (OpenAI `response_format.json_schema`,
 * Gemini `responseJsonSchema`/`responseSchema`, Anthropic `output_format`/a forced tool), else `value`
 * (default `{"ok":true}`). A request that forces a tool gets the JSON as that tool's arguments.
 */
export interface JsonScenario {
  kind: 'json';
  value?: Record<string, unknown>;
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
  | AuthErrorScenario
  | MidstreamErrorScenario
  | ToolCallScenario
  | JsonScenario;

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
  z.strictObject({
    kind: z.literal('midstream_error'),
    after_chunks: count,
    status: z.number().int().min(400).max(599).optional(),
    message: z.string().optional(),
    text,
  }),
  z.strictObject({
    kind: z.literal('tool_call'),
    name: z.string().min(1).optional(),
    arguments: z.record(z.string(), z.unknown()).optional(),
    text,
  }),
  z.strictObject({ kind: z.literal('json'), value: z.record(z.string(), z.unknown()).optional() }),
]);
