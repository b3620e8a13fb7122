import type { ChatRequest } from '../canonical/chat.js';
import type { Price } from './load-balance.js';
import type { PromptSize } from './prompt-size.js';

/**
 * The cost cap on resilience (`max_extra_cost`, per route, lowered per request by the
 * `x-understudy-max-extra-cost` header). A request's first attempt is what it costs anyway; every
 * later attempt — a retry, a hedge, a fallback, a continuation — is priced before it starts from
 * the target's configured price, and one that would take the request's extra spend past the cap
 * is skipped (recorded with failure kind `budget_exceeded`); a cheaper candidate further down may
 * still fit, and degradation rungs still answer.
 *
 * The price is an estimate made before the call: the prompt's tokens (counted when the prompt was
 * measured, else its UTF-8 bytes / 4) at the input price, plus `max_tokens` — the worst case —
 * at the output price when the request sets it. A target without a configured price counts as free.
 */
export function attemptCostEstimate(price: Price | undefined, promptTokens: number, outputTokens: number): number {
  if (!price) return 0;
  return (promptTokens * price.inputPerMTok + outputTokens * price.outputPerMTok) / 1_000_000;
}

/** The prompt's token count when it was counted, else an estimate from its size. */
export function promptTokenEstimate(size: PromptSize): number {
  return size.tokens ?? Math.ceil(size.bytes / 4);
}

/** The most output the request may produce, when it says so (0 otherwise). */
export function outputTokenLimit(request: ChatRequest): number {
  return request.max_completion_tokens ?? request.max_tokens ?? 0;
}

/** The cap for one request: the route's, lowered by the request's own when it sets one. */
export function extraCostCap(routeCap: number | undefined, requestCap: number | undefined): number | undefined {
  if (routeCap === undefined) return requestCap;
  if (requestCap === undefined) return routeCap;
  return Math.min(routeCap, requestCap);
}
