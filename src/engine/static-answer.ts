import type { ChatResponse } from '../canonical/chat.js';

/** The served-by name of a static degradation rung. */
export const STATIC_TARGET = 'understudy/static';

/** A static rung's fixed answer, in the canonical response shape. */
export function staticResponse(content: string, requestId: string, now: number): ChatResponse {
  return {
    id: `chatcmpl-${requestId}`,
    object: 'chat.completion',
    created: Math.floor(now / 1000),
    model: STATIC_TARGET,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}
