import type { ChatRequest } from '../../canonical/chat.js';

/** Fields that are Understudy's own and never go upstream. */
const GATEWAY_FIELDS = ['fallback_models'] as const;

/**
 * The body an OpenAI-wire upstream receives: the client's request unchanged, but for the model
 * name, the gateway's own fields, and (when streaming upstream for a non-streaming client)
 * `stream` with usage included so the assembled answer still carries usage.
 */
export function toOpenAIBody(request: ChatRequest, model: string, upstreamStream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request, model };
  for (const field of GATEWAY_FIELDS) delete body[field];
  if (upstreamStream) {
    body.stream = true;
    if (!request.stream) body.stream_options = { include_usage: true };
  } else {
    delete body.stream;
    delete body.stream_options;
  }
  return body;
}
