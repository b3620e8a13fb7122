import type { ChatResponse } from '../../../canonical/chat.js';
import { nativeMessage } from '../../../canonical/native.js';
import type { EncoderOptions, InboundApi, ParsedInbound, StreamEncoder } from '../inbound-api.js';
import { anthropicErrorBody } from './errors.js';
import { parseMessagesRequest } from './request.js';
import { toAnthropicMessage } from './response.js';
import { AnthropicStreamEncoder } from './stream-encoder.js';

/** `POST /v1/messages`: Anthropic SDK clients get the whole ladder, in Anthropic's wire format. */
export const anthropicApi: InboundApi = {
  name: 'anthropic',
  parse(body): ParsedInbound {
    const parsed = parseMessagesRequest(body);
    if (!parsed.ok) return parsed;
    return { ok: true, request: parsed.request, encoderOptions: { includeUsage: true, includeReasoning: parsed.thinking } };
  },
  responseBody: (response: ChatResponse, options: EncoderOptions) =>
    JSON.stringify(nativeMessage(response) ?? toAnthropicMessage(response, options.includeReasoning)),
  errorBody: anthropicErrorBody,
  streamEncoder: (options: EncoderOptions): StreamEncoder => new AnthropicStreamEncoder(options),
};
