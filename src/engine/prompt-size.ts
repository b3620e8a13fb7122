import type { ChatMessage, ChatRequest } from '../canonical/chat.js';

/**
 * How big a prompt is, for skipping targets whose context window cannot hold it. Counting tokens
 * costs real CPU on large prompts (tens of microseconds per kilobyte), so it happens only when it
 * could change a decision: the UTF-8 byte count is a hard upper bound on any BPE tokenizer's count
 * (every token is at least one byte), and when that bound already fits every window of the
 * ladder, nothing is counted.
 *
 * The count uses gpt-tokenizer's o200k_base (GPT-4o's encoding, loaded on first use). Other
 * providers' tokenizers differ (Claude's and Gemini's usually give somewhat more tokens for the
 * same text), so a target is skipped only when the count, lowered by `SKIP_MARGIN`, plus the
 * requested output still exceeds its window: a target is never skipped on a guess; one that
 * still overflows answers `context_window`, and the engine moves to a larger window.
 */
export const SKIP_MARGIN = 0.1;

/** Per-message framing overhead in OpenAI's chat format (role and separators), in tokens. */
const PER_MESSAGE_TOKENS = 4;

export interface PromptSize {
  /** UTF-8 bytes of everything that becomes prompt tokens: an upper bound on the token count. */
  bytes: number;
  /** The o200k count of the same text (plus framing), when it was worth computing. */
  tokens?: number;
}

/** The text of a request that becomes prompt tokens: message text, tool-call arguments and tool definitions. */
export function promptText(request: ChatRequest): string[] {
  const out: string[] = [];
  for (const m of request.messages) out.push(...messageText(m));
  if (Array.isArray(request.tools) && request.tools.length > 0) out.push(JSON.stringify(request.tools));
  if (request.response_format !== undefined) out.push(JSON.stringify(request.response_format));
  return out;
}

function messageText(m: ChatMessage): string[] {
  const out: string[] = [];
  if (typeof m.content === 'string') out.push(m.content);
  else if (Array.isArray(m.content)) {
    for (const part of m.content) if (part.type === 'text' && typeof part.text === 'string') out.push(part.text);
  }
  for (const call of m.tool_calls ?? []) out.push(call.function.name, call.function.arguments);
  return out;
}

export function promptBytes(texts: readonly string[], messages: number): number {
  let bytes = messages * PER_MESSAGE_TOKENS;
  for (const t of texts) bytes += Buffer.byteLength(t, 'utf8');
  return bytes;
}

type Counter = (text: string) => number;
let counter: Promise<Counter> | undefined;

/** o200k_base token count of the texts, plus per-message framing. */
export async function countTokens(texts: readonly string[], messages: number): Promise<number> {
  counter ??= import('gpt-tokenizer/encoding/o200k_base').then((m) => m.countTokens as Counter);
  const count = await counter;
  let tokens = messages * PER_MESSAGE_TOKENS;
  for (const t of texts) tokens += count(t);
  return tokens;
}

/**
 * The prompt's size, counted only when the byte bound does not already fit the smallest known
 * window of the ladder (`smallestWindow`, undefined when no target's window is known).
 */
export async function measurePrompt(request: ChatRequest, smallestWindow: number | undefined): Promise<PromptSize> {
  const texts = promptText(request);
  const bytes = promptBytes(texts, request.messages.length);
  const output = requestedOutput(request);
  if (smallestWindow === undefined || bytes + output <= smallestWindow) return { bytes };
  return { bytes, tokens: await countTokens(texts, request.messages.length) };
}

export function requestedOutput(request: ChatRequest): number {
  const wanted = request.max_completion_tokens ?? request.max_tokens;
  return typeof wanted === 'number' ? wanted : 0;
}

/** Why a window of `window` tokens cannot hold this prompt and its requested output, or undefined. */
export function overflow(size: PromptSize, output: number, window: number | undefined): string | undefined {
  if (window === undefined) return undefined;
  if (size.bytes + output <= window) return undefined;
  if (size.tokens === undefined) return undefined;
  const low = Math.floor(size.tokens * (1 - SKIP_MARGIN));
  if (low + output <= window) return undefined;
  return `the prompt (about ${size.tokens} tokens) and ${output} output tokens exceed this target's ${window}-token context window`;
}
