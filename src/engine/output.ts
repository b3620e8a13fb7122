import type { ChatChunk, ChatResponse } from '../canonical/chat.js';
import { chunkHasOutput } from '../canonical/chunks.js';

/** A complete answer carries output: text, a refusal, reasoning, a tool call — or a provider's content filter verdict. */
export function responseHasOutput(response: ChatResponse): boolean {
  for (const choice of response.choices) {
    if (choice.finish_reason === 'content_filter') return true;
    const m = choice.message;
    if (typeof m.content === 'string' && m.content.length > 0) return true;
    if (typeof m.refusal === 'string' && m.refusal.length > 0) return true;
    if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) return true;
    if (typeof m.reasoning_content === 'string' && m.reasoning_content.length > 0) return true;
  }
  return false;
}

/** The point at which a streaming answer is committed to the client. */
export function chunkCommits(chunk: ChatChunk): boolean {
  if (chunkHasOutput(chunk)) return true;
  for (const choice of chunk.choices) if (choice.finish_reason === 'content_filter') return true;
  return false;
}
