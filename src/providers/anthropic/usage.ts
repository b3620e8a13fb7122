import type { Usage } from '../../canonical/chat.js';
import type { MessageDeltaUsage } from './wire.js';

/**
 * Anthropic usage → OpenAI usage. Anthropic's `input_tokens` excludes cache reads and writes;
 * OpenAI's `prompt_tokens` counts every input token (cached ones are a subset). So
 * `prompt_tokens` = input + cache read + cache creation, and the cache counts are reported in
 * `prompt_tokens_details` (`cached_tokens` as OpenAI names reads, `cache_creation_tokens` for
 * writes). Thinking tokens, when reported, are `completion_tokens_details.reasoning_tokens`.
 */
export function toUsage(usage: MessageDeltaUsage): Usage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheCreation = usage.cache_creation_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + cacheRead + cacheCreation;
  const completion = usage.output_tokens ?? 0;
  const out: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (usage.cache_read_input_tokens != null || usage.cache_creation_input_tokens != null) {
    out.prompt_tokens_details = { cached_tokens: cacheRead, cache_creation_tokens: cacheCreation };
  }
  const thinking = usage.output_tokens_details?.thinking_tokens;
  if (typeof thinking === 'number') out.completion_tokens_details = { reasoning_tokens: thinking };
  return out;
}

/** Folds a later (cumulative) usage report into an earlier one: fields present in the later one win. */
export function mergeUsage(earlier: MessageDeltaUsage, later: MessageDeltaUsage): MessageDeltaUsage {
  const out: MessageDeltaUsage = { ...earlier };
  for (const [key, value] of Object.entries(later) as [keyof MessageDeltaUsage, MessageDeltaUsage[keyof MessageDeltaUsage]][]) {
    if (value !== undefined && value !== null) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
