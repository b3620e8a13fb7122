import type { ChatChunk, ChatResponse } from '../../canonical/chat.js';
import type { ClientError } from '../../engine/all-failed.js';
import { attemptCount, type AttemptRecord } from '../../engine/attempt.js';
import type { Served } from '../../engine/engine.js';
import { parseChatRequest } from '../chat-request.js';
import { attemptSummary } from '../understudy-headers.js';
import { servedTrailer, type EncoderOptions, type InboundApi, type ParsedInbound, type StreamEncoder } from './inbound-api.js';

/** OpenAI's error shape: `{error:{message,type,param,code}}`. */
export function openAIErrorBody(error: ClientError, attempts?: readonly AttemptRecord[]): string {
  const body: Record<string, unknown> = { message: error.message, type: error.type ?? 'invalid_request_error', param: error.param, code: error.code };
  if (attempts && attempts.length > 0) body.attempts = attemptSummary(attempts);
  return JSON.stringify({ error: body });
}

/** `POST /v1/chat/completions`: the canonical shape itself, so parsing validates and rendering serialises. */
export const openAIApi: InboundApi = {
  name: 'openai',
  parse(body): ParsedInbound {
    const parsed = parseChatRequest(body);
    if (!parsed.ok) return parsed;
    return {
      ok: true,
      request: parsed.request,
      encoderOptions: { includeUsage: parsed.request.stream_options?.include_usage === true, includeReasoning: true },
    };
  },
  responseBody: (response: ChatResponse) => JSON.stringify(response),
  errorBody: openAIErrorBody,
  streamEncoder(options: EncoderOptions): StreamEncoder {
    return {
      chunk(chunk: ChatChunk) {
        if (!options.includeUsage && chunk.choices.length === 0 && chunk.usage) return '';
        return `data: ${JSON.stringify(chunk)}\n\n`;
      },
      keepalive: () => ': keep-alive\n\n',
      error: (error) => `data: ${openAIErrorBody(error)}\n\n`,
      end: (served: Served) => `${servedTrailer(served, attemptCount(served.attempts))}data: [DONE]\n\n`,
    };
  },
};
