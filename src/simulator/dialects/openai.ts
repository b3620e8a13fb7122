import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
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
  type ToolCall,
  type ToolSpec,
  scriptOf,
} from '../dialect.js';
import * as errors from '../errors.js';
import { charsToTokens, estimateTokens, jsonFragments, newCallId, newCompletionId, newRequestId, unixSeconds } from '../payloads.js';
import { asArray, asRecord, asString } from './read.js';

/** OpenAI Chat Completions wire format (field order mirrors api.openai.com and the openai-python recordings). */

export const SYSTEM_FINGERPRINT = 'fp_sim';
export const SERVICE_TIER = 'default';
export const OWNED_BY = 'understudy-simulator';
export const SSE_DONE = 'data: [DONE]\n\n';
/** A `data:` line whose JSON is cut off mid-key. */
export const MALFORMED_JSON = '{"id": "chatcmpl-x", "choi';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

export function buildUsage(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

type FinishReason = 'stop' | 'tool_calls' | 'content_filter';

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

function newMeta(model: string): CompletionMeta {
  return { id: newCompletionId(), created: unixSeconds(), model };
}

function usageFor(req: SimRequest, answer: Answer): Usage {
  return buildUsage(charsToTokens(req.promptChars), estimateTokens(answerText(answer)));
}

function finishReason(answer: Answer): FinishReason {
  if (answer.kind === 'refusal') return 'content_filter';
  return answer.toolCall ? 'tool_calls' : 'stop';
}

function wireToolCall(call: ToolCall): WireToolCall {
  return { id: newCallId(), type: 'function', function: { name: call.name, arguments: JSON.stringify(call.arguments) } };
}

export function buildCompletion(req: SimRequest, answer: Answer): Record<string, unknown> {
  const meta = newMeta(req.model);
  const message: Record<string, unknown> = { role: 'assistant' };
  if (answer.kind === 'message' && answer.toolCall) {
    message['content'] = answer.text === '' ? null : answer.text;
    message['tool_calls'] = [wireToolCall(answer.toolCall)];
  } else {
    message['content'] = answer.kind === 'message' ? answer.text : '';
  }
  message['refusal'] = null;
  message['annotations'] = [];
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(answer) }],
    usage: usageFor(req, answer),
    service_tier: SERVICE_TIER,
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/** Builds the chunks of one streamed completion; `includeUsage` adds `usage:null` to every choice chunk. */
class ChunkFactory {
  constructor(
    private readonly meta: CompletionMeta,
    private readonly includeUsage: boolean,
  ) {}

  chunk(delta: Record<string, unknown> | undefined, finish: FinishReason | null = null, usage?: Usage): string {
    const c: Record<string, unknown> = {
      id: this.meta.id,
      object: 'chat.completion.chunk',
      created: this.meta.created,
      model: this.meta.model,
      service_tier: SERVICE_TIER,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: delta ? [{ index: 0, delta, logprobs: null, finish_reason: finish }] : [],
    };
    if (usage) c['usage'] = usage;
    else if (this.includeUsage) c['usage'] = null;
    return sseData(c);
  }
}

/** One data-only SSE event. */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

function streamScript(req: SimRequest, answer: Answer, opts: StreamOptions): StreamScript {
  const f = new ChunkFactory(newMeta(req.model), req.includeUsage);
  const frames: Frame[] = [];
  const structural = (data: string): number => frames.push({ data, countable: false });
  const content = (data: string): number => frames.push({ data, countable: true });
  const call = answer.kind === 'message' ? answer.toolCall : undefined;
  const wire = call ? wireToolCall(call) : undefined;
  const header = wire && { index: 0, id: wire.id, type: 'function', function: { name: wire.function.name, arguments: '' } };
  if (header && opts.pieces.length === 0) {
    // openai-python recordings (test_parse_strict_tools.sse): the tool header rides on the role delta.
    structural(f.chunk({ role: 'assistant', content: null, tool_calls: [header], refusal: null }));
  } else {
    structural(f.chunk({ role: 'assistant', content: '', refusal: null }));
    for (const piece of opts.pieces) content(f.chunk({ content: piece }));
    if (header) content(f.chunk({ tool_calls: [header] }));
  }
  for (const fragment of wire ? jsonFragments(wire.function.arguments) : []) {
    content(f.chunk({ tool_calls: [{ index: 0, function: { arguments: fragment } }] }));
  }
  structural(f.chunk({}, finishReason(answer)));
  if (req.includeUsage) structural(f.chunk(undefined, null, usageFor(req, answer)));
  if (opts.complete) structural(SSE_DONE);
  return scriptOf(frames);
}

function toolsOf(body: Record<string, unknown>): ToolSpec[] {
  const tools: ToolSpec[] = [];
  for (const t of asArray(body['tools'])) {
    const fn = asRecord(asRecord(t)['function']);
    const name = asString(fn['name']);
    if (name !== undefined) tools.push({ name, parameters: fn['parameters'] });
  }
  return tools;
}

function forcedToolOf(body: Record<string, unknown>): { name?: string } | undefined {
  const choice = body['tool_choice'];
  if (choice === 'required') return {};
  const name = asString(asRecord(asRecord(choice)['function'])['name']);
  return name !== undefined ? { name } : undefined;
}

function jsonOf(body: Record<string, unknown>): { schema?: unknown } | undefined {
  const format = asRecord(body['response_format']);
  if (format['type'] === 'json_schema') {
    const schema = asRecord(format['json_schema'])['schema'];
    return schema === undefined ? {} : { schema };
  }
  return format['type'] === 'json_object' ? {} : undefined;
}

function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1]?.trim();
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function json(status: number, body: unknown, headers: OutgoingHttpHeaders = {}): ErrorReply {
  return { status, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } };
}

function retryHeaders(retryAfterS?: number, retryAfterMs?: number): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = {};
  if (retryAfterS !== undefined) h['retry-after'] = String(retryAfterS);
  if (retryAfterMs !== undefined) h['retry-after-ms'] = String(retryAfterMs);
  return h;
}

function errorReply(e: SimError, ctx: ErrorContext): ErrorReply {
  switch (e.kind) {
    case 'rate_limit':
      return json(429, errors.rateLimited(), {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': `${e.retryAfterS ?? 1}s`,
        ...retryHeaders(e.retryAfterS, e.retryAfterMs),
      });
    case 'insufficient_quota':
      return json(429, errors.insufficientQuota());
    case 'status':
      return json(e.status, errors.errorForStatus(e.status, e.message), retryHeaders(e.retryAfterS));
    case 'context_window':
      return json(400, errors.contextLengthExceeded(e.limit, e.tokens));
    case 'content_filter':
      return json(400, errors.contentFiltered(), { 'apim-request-id': ctx.requestId });
    case 'invalid_request':
      return json(400, errors.invalidTemperature());
    case 'unsupported_parameter':
      return json(400, errors.unsupportedParameter());
    case 'auth_error':
      return json(401, errors.invalidApiKey(e.key ?? 'sk-simulator-invalid-key'));
    case 'unauthorized':
      return json(401, errors.invalidApiKey(e.key));
    case 'model_not_found':
      return json(404, errors.modelNotFound(e.model));
    case 'invalid_json':
      return json(400, errors.invalidJson());
    case 'missing_model':
      return json(400, errors.missingModel());
    case 'missing_field':
      return json(400, errors.missingParameter(e.field));
    case 'invalid_url':
      return json(404, errors.invalidUrl(e.method, e.path));
  }
}

export const openai: Dialect = {
  format: 'openai',
  streamContentType: 'text/event-stream; charset=utf-8',
  jsonContentType: 'application/json',
  contentFilterIsError: true,
  malformedFrame: `data: ${MALFORMED_JSON}\n\n`,
  malformedBody: MALFORMED_JSON,

  newRequestId,
  baseHeaders: (requestId, elapsedMs) => ({
    'x-request-id': requestId,
    'openai-organization': 'understudy-simulator',
    'openai-processing-ms': String(Math.round(elapsedMs)),
    'openai-version': '2020-10-01',
    'x-ratelimit-limit-requests': '10000',
    'x-ratelimit-limit-tokens': '30000000',
    'x-ratelimit-remaining-requests': '9999',
    'x-ratelimit-remaining-tokens': '29999000',
    'x-ratelimit-reset-requests': '6ms',
    'x-ratelimit-reset-tokens': '2ms',
  }),
  // Azure OpenAI sends its key in `api-key`.
  apiKey: (req) => bearerToken(req) ?? headerValue(req.headers['api-key']),
  // Kept lenient on purpose: the gateway's own tests send minimal bodies.
  missingField: () => undefined,
  features: (body): RequestFeatures => {
    const options = asRecord(body['stream_options']);
    return {
      promptChars: JSON.stringify(body['messages'] ?? []).length,
      tools: toolsOf(body),
      forcedTool: forcedToolOf(body),
      json: jsonOf(body),
      includeUsage: body['stream'] === true && options['include_usage'] === true,
      continuing: continuingFrom(messageTurns(body['messages'])),
    };
  },

  message: (req, answer) => JSON.stringify(buildCompletion(req, answer)),
  stream: streamScript,
  streamError: (status, message) => sseData(errors.errorForStatus(status, message)),
  error: errorReply,
};
