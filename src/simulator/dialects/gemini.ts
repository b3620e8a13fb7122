import type { OutgoingHttpHeaders } from 'node:http';
import { continuingFrom, geminiTurns } from '../continuing.js';
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
import { charsToTokens, estimateTokens, newRequestId, newResponseId } from '../payloads.js';
import { asArray, asRecord, asString, field } from './read.js';

/**
 * Gemini API (generativelanguage v1beta) wire format, FACTS §3. Field order is the proto order the
 * live API uses (fixtures/vercel-ai/google/*); proto3 JSON omits zero-valued fields. Non-stream
 * bodies and errors are pretty-printed with a trailing newline like Google's frontend (the recorded
 * 404's Content-Length matches exactly that); SSE chunks are compact, `data: …\r\n\r\n`, no names, no [DONE].
 */

const RATE_LIMIT_DOCS = 'https://ai.google.dev/gemini-api/docs/rate-limits';

function usageMetadata(promptTokens: number, candidateTokens: number): Record<string, unknown> {
  return {
    promptTokenCount: promptTokens,
    ...(candidateTokens > 0 ? { candidatesTokenCount: candidateTokens } : {}),
    totalTokenCount: promptTokens + candidateTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
  };
}

/** Prompt blocked: HTTP 200, no candidates (FACTS §3). */
function blocked(req: SimRequest, responseId: string): Record<string, unknown> {
  return {
    promptFeedback: {
      blockReason: 'SAFETY',
      safetyRatings: [
        { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
        { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
        { category: 'HARM_CATEGORY_HARASSMENT', probability: 'HIGH', blocked: true },
        { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
      ],
    },
    usageMetadata: usageMetadata(charsToTokens(req.promptChars), 0),
    modelVersion: req.model,
    responseId,
  };
}

function response(req: SimRequest, responseId: string, parts: unknown[], finished: boolean, candidateTokens: number): Record<string, unknown> {
  return {
    candidates: [{ content: { parts, role: 'model' }, ...(finished ? { finishReason: 'STOP' } : {}), index: 0 }],
    usageMetadata: usageMetadata(charsToTokens(req.promptChars), candidateTokens),
    modelVersion: req.model,
    responseId,
  };
}

function pretty(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function buildResponse(req: SimRequest, answer: Answer): Record<string, unknown> {
  const id = newResponseId();
  if (answer.kind === 'refusal') return blocked(req, id);
  const parts: unknown[] = [];
  if (answer.text !== '' || !answer.toolCall) parts.push({ text: answer.text });
  // A function-call turn ends with finishReason STOP: there is no tool-specific reason.
  if (answer.toolCall) parts.push({ functionCall: { name: answer.toolCall.name, args: answer.toolCall.arguments } });
  return response(req, id, parts, true, estimateTokens(answerText(answer)));
}

function sse(value: unknown): string {
  return `data: ${JSON.stringify(value)}\r\n\r\n`;
}

function streamScript(req: SimRequest, answer: Answer, opts: StreamOptions): StreamScript {
  const id = newResponseId();
  if (answer.kind === 'refusal') return { head: [], chunks: [], tail: [sse(blocked(req, id))] };
  // Every chunk is a whole GenerateContentResponse with only the new part; usage is cumulative;
  // the last chunk carries finishReason (a stream without one never finished).
  const parts: unknown[] = opts.pieces.map((text) => ({ text }));
  if (answer.toolCall) parts.push({ functionCall: { name: answer.toolCall.name, args: answer.toolCall.arguments } });
  if (parts.length === 0) parts.push({ text: '' });
  const frames: Frame[] = [];
  let emitted = '';
  parts.forEach((part, i) => {
    const p = part as { text?: string; functionCall?: { name: string; args: unknown } };
    emitted += p.text ?? `${p.functionCall?.name ?? ''}${JSON.stringify(p.functionCall?.args ?? {})}`;
    const last = i === parts.length - 1;
    frames.push({ data: sse(response(req, id, [part], last && opts.complete, estimateTokens(emitted))), countable: true });
  });
  return scriptOf(frames);
}

function toolsOf(body: Record<string, unknown>): ToolSpec[] {
  const tools: ToolSpec[] = [];
  for (const t of asArray(body['tools'])) {
    for (const d of asArray(field(asRecord(t), 'functionDeclarations'))) {
      const decl = asRecord(d);
      const name = asString(decl['name']);
      if (name !== undefined) tools.push({ name, parameters: field(decl, 'parametersJsonSchema') ?? decl['parameters'] });
    }
  }
  return tools;
}

function forcedToolOf(body: Record<string, unknown>): { name?: string } | undefined {
  const config = asRecord(field(asRecord(field(body, 'toolConfig')), 'functionCallingConfig'));
  if (config['mode'] !== 'ANY') return undefined;
  const name = asString(asArray(field(config, 'allowedFunctionNames'))[0]);
  return name !== undefined ? { name } : {};
}

function jsonOf(body: Record<string, unknown>): { schema?: unknown } | undefined {
  const config = asRecord(field(body, 'generationConfig'));
  const schema = field(config, 'responseJsonSchema') ?? field(config, 'responseSchema');
  if (schema !== undefined) return { schema };
  return field(config, 'responseMimeType') === 'application/json' ? {} : undefined;
}

/** google.rpc.Code name per HTTP status (ai.google.dev troubleshooting, AIP-193). */
const STATUS_ERRORS: Record<number, { status: string; message: string }> = {
  400: { status: 'INVALID_ARGUMENT', message: 'Request contains an invalid argument.' },
  401: {
    status: 'UNAUTHENTICATED',
    message:
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  },
  403: { status: 'PERMISSION_DENIED', message: 'The caller does not have permission' },
  404: { status: 'NOT_FOUND', message: 'Requested entity was not found.' },
  409: { status: 'ABORTED', message: 'The operation was aborted.' },
  429: { status: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted (e.g. check quota).' },
  499: { status: 'CANCELLED', message: 'The operation was cancelled.' },
  500: {
    status: 'INTERNAL',
    message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  },
  501: { status: 'UNIMPLEMENTED', message: 'Operation is not implemented, or supported, or enabled.' },
  502: { status: 'UNAVAILABLE', message: 'The service is currently unavailable.' },
  503: { status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' },
  504: { status: 'DEADLINE_EXCEEDED', message: 'Deadline expired before operation could complete.' },
  529: { status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' },
};

export function errorStatus(code: number, message?: string): { code: number; message: string; status: string } {
  const e = STATUS_ERRORS[code] ?? (code >= 500 ? STATUS_ERRORS[500] : STATUS_ERRORS[400]);
  return { code, message: message ?? e?.message ?? '', status: e?.status ?? 'INTERNAL' };
}

/** `RetryInfo.retryDelay` is a protobuf Duration: seconds with up to 9 decimals and an `s`. */
export function duration(seconds: number): string {
  return `${Number(seconds.toFixed(9))}s`;
}

type Detail = Record<string, unknown>;

const retryInfo = (seconds: number): Detail => ({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: duration(seconds) });
const badRequest = (fieldName: string | undefined, description: string): Detail => ({
  '@type': 'type.googleapis.com/google.rpc.BadRequest',
  fieldViolations: [{ ...(fieldName !== undefined ? { field: fieldName } : {}), description }],
});

function quotaFailure(quotaId: string, model: string | undefined, quotaValue: string): Detail[] {
  return [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
          quotaId,
          quotaDimensions: { location: 'global', model: model ?? 'unknown' },
          quotaValue,
        },
      ],
    },
    { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: RATE_LIMIT_DOCS }] },
  ];
}

const API_KEY_INVALID = 'API key not valid. Please pass a valid API key.';

function reply(code: number, message: string | undefined, ctx: ErrorContext, details?: Detail[]): ErrorReply {
  const error: Record<string, unknown> = errorStatus(code, message);
  if (details && details.length > 0) error['details'] = details;
  // The recorded streamGenerateContent 404 came back as `text/event-stream` with a JSON body.
  const contentType = ctx.stream ? 'text/event-stream' : 'application/json; charset=UTF-8';
  return { status: code, body: pretty({ error }), headers: { 'content-type': contentType } };
}

function errorReply(e: SimError, ctx: ErrorContext): ErrorReply {
  const quotaMessage = `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: ${RATE_LIMIT_DOCS}.`;
  switch (e.kind) {
    case 'rate_limit': {
      const seconds = e.retryAfterMs !== undefined ? e.retryAfterMs / 1000 : e.retryAfterS;
      return reply(429, quotaMessage, ctx, [
        ...quotaFailure('GenerateRequestsPerMinutePerProjectPerModel-FreeTier', ctx.model, '15'),
        ...(seconds !== undefined ? [retryInfo(seconds)] : []),
      ]);
    }
    case 'insufficient_quota':
      return reply(429, quotaMessage, ctx, quotaFailure('GenerateRequestsPerDayPerProjectPerModel-FreeTier', ctx.model, '200'));
    case 'status':
      return reply(e.status, e.message, ctx, e.retryAfterS !== undefined ? [retryInfo(e.retryAfterS)] : undefined);
    case 'context_window':
      return reply(400, `The input token count (${e.tokens}) exceeds the maximum number of tokens allowed (${e.limit}).`, ctx);
    case 'content_filter':
      return reply(400, 'The prompt was blocked due to safety reasons.', ctx);
    case 'invalid_request': {
      const message = '* GenerateContentRequest.generation_config.temperature: must be between 0.0 and 2.0\n';
      return reply(400, message, ctx, [badRequest('generation_config.temperature', 'must be between 0.0 and 2.0')]);
    }
    case 'unsupported_parameter': {
      const message = `Invalid JSON payload received. Unknown name "max_tokens" at 'generation_config': Cannot find field.`;
      return reply(400, message, ctx, [badRequest('generation_config', message)]);
    }
    case 'auth_error':
      return apiKeyInvalid(ctx);
    case 'unauthorized':
      return e.key
        ? apiKeyInvalid(ctx)
        : reply(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            ctx,
          );
    case 'model_not_found': {
      // fixtures/gemini/js-genai-recordings/Chats_Tests_sendMessage_Send_message_stream_with_error.0.response.json
      const message = `models/${e.model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`;
      return reply(404, message, ctx, [
        {
          '@type': 'type.googleapis.com/google.rpc.DebugInfo',
          detail: `[ORIGINAL ERROR] generic::not_found: ${message} [google.rpc.error_details_ext] { message: ${JSON.stringify(message)} }`,
        },
      ]);
    }
    case 'invalid_json': {
      const message = 'Invalid JSON payload received. Unexpected token.';
      return reply(400, message, ctx, [badRequest(undefined, message)]);
    }
    case 'missing_model':
    case 'invalid_url':
      return reply(404, e.kind === 'invalid_url' ? `Method not found: ${e.method} ${e.path}` : 'Method not found.', ctx);
    case 'missing_field':
      return reply(400, `* GenerateContentRequest.${e.field}: ${e.field} is not specified\n`, ctx);
  }
}

function apiKeyInvalid(ctx: ErrorContext): ErrorReply {
  return reply(400, API_KEY_INVALID, ctx, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: API_KEY_INVALID },
  ]);
}

export const gemini: Dialect = {
  format: 'gemini',
  streamContentType: 'text/event-stream',
  jsonContentType: 'application/json; charset=UTF-8',
  contentFilterIsError: false,
  malformedFrame: 'data: {"candidates": [{"content": {"parts": [{"te\r\n\r\n',
  malformedBody: '{\n  "candidates": [\n    {\n      "content": {\n        "par',

  newRequestId,
  baseHeaders: (_requestId, elapsedMs): OutgoingHttpHeaders => ({
    vary: 'Origin, X-Origin, Referer',
    server: 'scaffolding on HTTPServer2',
    'server-timing': `gfet4t7; dur=${Math.round(elapsedMs)}`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'x-xss-protection': '0',
  }),
  apiKey: (req, url) => {
    const header = req.headers['x-goog-api-key'];
    return (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('key') ?? undefined;
  },
  missingField: (body) => (Array.isArray(body['contents']) ? undefined : 'contents'),
  features: (body): RequestFeatures => ({
    promptChars: JSON.stringify(body['contents'] ?? []).length,
    tools: toolsOf(body),
    forcedTool: forcedToolOf(body),
    json: jsonOf(body),
    includeUsage: false,
    continuing: continuingFrom(geminiTurns(body['contents'])),
  }),

  message: (req, answer) => pretty(buildResponse(req, answer)),
  stream: streamScript,
  streamError: (status, message) => sse({ error: errorStatus(status, message) }),
  error: errorReply,
};
