import { isObject } from './decode.js';
import type { RedactedThinkingBlock, ThinkingBlock } from './wire.js';

/**
 * Anthropic's signed thinking blocks, carried on canonical messages so a later turn can send them
 * back unchanged (the API needs them, signature and all, to continue a tool-use turn with thinking).
 * The field name is LiteLLM's: `message.thinking_blocks` in responses and in assistant messages of
 * requests, and `delta.thinking_blocks` in streams (each complete block once, at its end).
 */
export const THINKING_BLOCKS_FIELD = 'thinking_blocks';

export type SignedThinking = ThinkingBlock | RedactedThinkingBlock;

/** The well-formed, signed blocks in a client-supplied value; anything else is not ours to replay. */
export function readThinkingBlocks(value: unknown): SignedThinking[] {
  if (!Array.isArray(value)) return [];
  const out: SignedThinking[] = [];
  for (const block of value) {
    if (!isObject(block)) continue;
    if (block.type === 'thinking' && typeof block.thinking === 'string' && typeof block.signature === 'string' && block.signature) {
      out.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
    } else if (block.type === 'redacted_thinking' && typeof block.data === 'string') {
      out.push({ type: 'redacted_thinking', data: block.data });
    }
  }
  return out;
}
