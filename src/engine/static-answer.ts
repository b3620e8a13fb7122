import type { ChatResponse } from '../canonical/chat.js';

/** The served-by names of the degradation rungs. */
export const STATIC_TARGET = 'understudy/static';
export const CACHE_TARGET = 'understudy/cache';

/**
 * The body's own mark on a degraded answer (besides `x-understudy-degraded: true`), so a client
 * that only keeps bodies can still tell. Extra top-level fields are ignored by OpenAI clients.
 */
export interface DegradedMark {
  degraded: true;
  source: 'static' | 'cache';
  /** For a cached answer: when it was stored (ISO 8601). */
  stored_at?: string;
}

/** A static rung's fixed answer, in the canonical response shape. */
export function staticResponse(content: string, requestId: string, now: number): ChatResponse {
  return {
    id: `chatcmpl-${requestId}`,
    object: 'chat.completion',
    created: Math.floor(now / 1000),
    model: STATIC_TARGET,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    understudy: { degraded: true, source: 'static' } satisfies DegradedMark,
  };
}

/** A cached answer, served again: the original model's words, marked degraded and dated. */
export function cachedResponse(cached: { response: ChatResponse; storedAt: number }): ChatResponse {
  const mark: DegradedMark = { degraded: true, source: 'cache', stored_at: new Date(cached.storedAt).toISOString() };
  return { ...cached.response, understudy: mark };
}
