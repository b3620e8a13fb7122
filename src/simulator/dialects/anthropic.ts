import type { OutgoingHttpHeaders } from 'node:http';
import { continuingFrom, messageTurns } from '../continuing.js';
import { answerText } from '../answer.js';
import {
  type Answer,
  type Dialect,
  type ErrorContext,
  type ErrorReply,
  type Frame,
  type RequestFeatures,
  type SimError,
  type SimRequest,
  type StreamOptions,
  type StreamScript,
  type ToolSpec,
  scriptOf,
} from '../dialect.js';
import { charsToTokens, estimateTokens, jsonFragments, newAnthropicRequestId, newMessageId, newToolUseId } from '../payloads.js';
import { asArray, asRecord, asString } from './read.js';

/**
 * Anthropic Messages wire format. Shapes and field order follow the real-API recordings in
 * shared/conformance/fixtures (vercel-ai/anthropic/*, anthropic/sdk-*), FACTS §2.
 */

type StopReason = 'end_turn' | 'tool_use' | 'refusal';

/** `stop_details` of fixtures/vercel-ai/anthropic/anthropic-refusal.json. */
const REFUSAL_DETAILS = {
  type: 'refusal',
  category: 'cyber',
  explanation: "This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy.",
};

const ORGANIZATION_ID = '5b2b1b0e-2c8a-4f38-9a35-000000000000';

function fullUsage(inputTokens: number, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
    inference_geo: 'not_available',
  };
}

function stopReason(answer: Answer): StopReason {
  if (answer.kind === 'refusal') return 'refusal';
  return answer.toolCall ? 'tool_use' : 'end_turn';
}

function content(answer: Answer): Record<string, unknown>[] {
  if (answer.kind === 'refusal') return [];
  const blocks: Record<string, unknown>[] = [];
  if (answer.text !== '') blocks.push({ type: 'text', text: answer.text });
  const call = answer.toolCall;
  if (call) blocks.push({ type: 'tool_use', id: newToolUseId(), name: call.name, input: call.arguments });
  return blocks;
}

function inputTokens(req: SimRequest): number {
  return charsToTokens(req.promptChars);
}

function outputTokens(answer: Answer): number {
  return estimateTokens(answerText(answer));
}

export function buildMessage(req: SimRequest, answer: Answer): Record<string, unknown> {
  const reason = stopReason(answer);
  return {
    model: req.model,
    id: newMessageId(),
    type: 'message',
    role: 'assistant',
    content: content(answer),
    stop_reason: reason,
    ...(reason === 'refusal' ? { stop_details: REFUSAL_DETAILS } : {}),
    stop_sequence: null,
    usage: fullUsage(inputTokens(req), outputTokens(answer)),
  };
}

/** One named SSE event; the event name always equals `data.type`. */
function event(data: { type: string } & Record<string, unknown>): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Verbatim from the recordings (note the space: the API's ping is not compact JSON). */
const PING = 'event: ping\ndata: {"type": "ping"}\n\n';

function streamScript(req: SimRequest, answer: Answer, opts: StreamOptions): StreamScript {
  const frames: Frame[] = [];
  const structural = (data: string): number => frames.push({ data, countable: false });
  const delta = (data: string): number => frames.push({ data, countable: true });
  let pinged = false;
  const pingOnce = (): void => {
    if (!pinged) structural(PING);
    pinged = true;
  };

  structural(
    event({
      type: 'message_start',
      message: {
        model: req.model,
        id: newMessageId(),
        type: 'message',
        role: 'assistant',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: fullUsage(inputTokens(req), 1),
      },
    }),
  );

  let index = 0;
  if (answer.kind === 'message' && opts.pieces.length > 0) {
    structural(event({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
    pingOnce();
    for (const text of opts.pieces) delta(event({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } }));
    structural(event({ type: 'content_block_stop', index }));
    index++;
  }
  const call = answer.kind === 'message' ? answer.toolCall : undefined;
  if (call) {
    structural(
      event({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: newToolUseId(), name: call.name, input: {} } }),
    );
    pingOnce();
    for (const partial_json of ['', ...jsonFragments(JSON.stringify(call.arguments))]) {
      delta(event({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }));
    }
    structural(event({ type: 'content_block_stop', index }));
  }
  pingOnce();

  const reason = stopReason(answer);
  structural(
    event({
      type: 'message_delta',
      delta: { stop_reason: reason, stop_sequence: null, ...(reason === 'refusal' ? { stop_details: REFUSAL_DETAILS } : {}) },
      usage: { input_tokens: inputTokens(req), cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: outputTokens(answer) },
    }),
  );
  if (opts.complete) structural(event({ type: 'message_stop' }));
  return scriptOf(frames);
}

function toolsOf(body: Record<string, unknown>): ToolSpec[] {
  const tools: ToolSpec[] = [];
  for (const t of asArray(body['tools'])) {
    const tool = asRecord(t);
    const name = asString(tool['name']);
    // Server tools (web_search_…, bash_…) carry a versioned `type`; client tools have none or 'custom'.
    if (name !== undefined && (tool['type'] === undefined || tool['type'] === 'custom')) {
      tools.push({ name, parameters: tool['input_schema'] });
    }
  }
  return tools;
}

function forcedToolOf(body: Record<string, unknown>): { name?: string } | undefined {
  const choice = asRecord(body['tool_choice']);
  if (choice['type'] === 'any') return {};
  const name = asString(choice['name']);
  return choice['type'] === 'tool' && name !== undefined ? { name } : undefined;
}

/** Structured outputs: `output_format` (beta) or `output_config.format`. */
function jsonOf(body: Record<string, unknown>): { schema?: unknown } | undefined {
  for (const format of [asRecord(body['output_format']), asRecord(asRecord(body['output_config'])['format'])]) {
    if (format['type'] === 'json_schema') return format['schema'] === undefined ? {} : { schema: format['schema'] };
  }
  return undefined;
}

/** Error types per HTTP status (FACTS §2 table). */
const STATUS_ERRORS: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'Invalid request.' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  402: { type: 'billing_error', message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.' },
  403: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
  404: { type: 'not_found_error', message: 'Not found' },
  408: { type: 'timeout_error', message: 'Request timed out' },
  409: { type: 'conflict_error', message: 'Conflict' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: {
    type: 'rate_limit_error',
    message:
      'This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.',
  },
  500: { type: 'api_error', message: 'Internal server error' },
  504: { type: 'timeout_error', message: 'Request timed out' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

export function errorObject(status: number, message?: string): { type: string; message: string } {
  const e = STATUS_ERRORS[status] ?? (status >= 500 ? STATUS_ERRORS[500] : STATUS_ERRORS[400]);
  return { type: e?.type ?? 'api_error', message: message ?? e?.message ?? 'Internal server error' };
}

function reply(status: number, type: string, message: string, ctx: ErrorContext, headers: OutgoingHttpHeaders = {}): ErrorReply {
  const body = { type: 'error', error: { type, message }, request_id: ctx.requestId };
  return { status, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } };
}

function forStatus(status: number, ctx: ErrorContext, message?: string, headers: OutgoingHttpHeaders = {}): ErrorReply {
  const e = errorObject(status, message);
  return reply(status, e.type, e.message, ctx, headers);
}

function rfc3339(msFromNow: number): string {
  return new Date(Date.now() + msFromNow).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function errorReply(e: SimError, ctx: ErrorContext): ErrorReply {
  switch (e.kind) {
    case 'rate_limit': {
      // The real API sends only `retry-after` (integer seconds), never `retry-after-ms`.
      const seconds = e.retryAfterS ?? (e.retryAfterMs !== undefined ? Math.ceil(e.retryAfterMs / 1000) : undefined);
      return forStatus(429, ctx, undefined, {
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': rfc3339((seconds ?? 1) * 1000),
        ...(seconds !== undefined ? { 'retry-after': String(seconds) } : {}),
      });
    }
    case 'insufficient_quota':
      return reply(400, 'invalid_request_error', STATUS_ERRORS[402]?.message ?? '', ctx);
    case 'status':
      return forStatus(e.status, ctx, e.message, e.retryAfterS !== undefined ? { 'retry-after': String(e.retryAfterS) } : {});
    case 'context_window':
      return reply(400, 'invalid_request_error', `prompt is too long: ${e.tokens} tokens > ${e.limit} maximum`, ctx);
    case 'content_filter':
      return reply(400, 'invalid_request_error', 'Output blocked by content filtering policy', ctx);
    case 'invalid_request':
      return reply(400, 'invalid_request_error', 'temperature: Input should be less than or equal to 1', ctx);
    case 'unsupported_parameter':
      return reply(400, 'invalid_request_error', 'max_completion_tokens: Extra inputs are not permitted', ctx);
    case 'auth_error':
      return reply(401, 'authentication_error', 'invalid x-api-key', ctx);
    case 'unauthorized':
      return reply(401, 'authentication_error', e.key ? 'invalid x-api-key' : 'x-api-key header is required', ctx);
    case 'model_not_found':
      return reply(404, 'not_found_error', `model: ${e.model}`, ctx);
    case 'invalid_json':
      return reply(400, 'invalid_request_error', 'There was an error parsing the body of your request. Please make sure it is valid JSON.', ctx);
    case 'missing_model':
      return reply(400, 'invalid_request_error', 'model: Field required', ctx);
    case 'missing_field':
      return reply(400, 'invalid_request_error', `${e.field}: Field required`, ctx);
    case 'invalid_url':
      return reply(404, 'not_found_error', 'Not Found', ctx);
  }
}

export const anthropic: Dialect = {
  format: 'anthropic',
  streamContentType: 'text/event-stream; charset=utf-8',
  jsonContentType: 'application/json',
  contentFilterIsError: false,
  malformedFrame: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_del\n\n',
  malformedBody: '{"model":"claude","id":"msg_01","type":"message","role":"assis',

  newRequestId: newAnthropicRequestId,
  baseHeaders: (requestId) => {
    const reset = rfc3339(1000);
    const limits: OutgoingHttpHeaders = {};
    for (const [kind, limit] of [
      ['requests', 4000],
      ['tokens', 2_000_000],
      ['input-tokens', 1_600_000],
      ['output-tokens', 400_000],
    ] as const) {
      limits[`anthropic-ratelimit-${kind}-limit`] = String(limit);
      limits[`anthropic-ratelimit-${kind}-remaining`] = String(limit - 1);
      limits[`anthropic-ratelimit-${kind}-reset`] = reset;
    }
    return { 'request-id': requestId, 'anthropic-organization-id': ORGANIZATION_ID, ...limits };
  },
  // `x-api-key` (FACTS §2); current SDKs (@anthropic-ai/sdk ≥ 1.x) send the key as a Bearer token instead.
  apiKey: (req) => {
    const key = req.headers['x-api-key'];
    return (Array.isArray(key) ? key[0] : key) ?? /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
  },
  missingField: (body) => {
    if (typeof body['max_tokens'] !== 'number') return 'max_tokens';
    if (!Array.isArray(body['messages'])) return 'messages';
    return undefined;
  },
  features: (body): RequestFeatures => ({
    promptChars: JSON.stringify(body['messages'] ?? []).length,
    tools: toolsOf(body),
    forcedTool: forcedToolOf(body),
    json: jsonOf(body),
    includeUsage: false,
    continuing: continuingFrom(messageTurns(body['messages'])),
  }),

  message: (req, answer) => JSON.stringify(buildMessage(req, answer)),
  stream: streamScript,
  streamError: (status, message) => event({ type: 'error', error: errorObject(status, message) }),
  error: errorReply,
};
