import { randomBytes } from 'node:crypto';

/** Format-neutral payload helpers: ids, token estimates, text splitting. Wire shapes live in `dialects/`. */

export const DEFAULT_TEXT = 'Hello from the simulator.';
export const DEFAULT_GARBAGE = '<html><body><h1>502 Bad Gateway</h1></body></html>\n';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const URL_SAFE = `${ALPHANUMERIC}-_`;

export function randomToken(length: number, alphabet = ALPHANUMERIC): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** OpenAI `chatcmpl-…` (29 alphanumerics, as api.openai.com). */
export function newCompletionId(): string {
  return `chatcmpl-${randomToken(29)}`;
}

/** OpenAI `call_…` tool-call id. */
export function newCallId(): string {
  return `call_${randomToken(24)}`;
}

/** OpenAI `x-request-id`. */
export function newRequestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

/** Anthropic `msg_01…` (24 base58 characters after the prefix, as in the recordings). */
export function newMessageId(): string {
  return `msg_01${randomToken(22, BASE58)}`;
}

/** Anthropic `toolu_01…`. */
export function newToolUseId(): string {
  return `toolu_01${randomToken(22, BASE58)}`;
}

/** Anthropic `request-id` / `request_id` (`req_011C…`). */
export function newAnthropicRequestId(): string {
  return `req_011C${randomToken(20, BASE58)}`;
}

/** Gemini `responseId` (23 URL-safe characters). */
export function newResponseId(): string {
  return randomToken(23, URL_SAFE);
}

export function unixSeconds(ms: number = Date.now()): number {
  return Math.floor(ms / 1000);
}

/** Deterministic token estimate: ~4 characters per token. */
export function estimateTokens(text: string): number {
  return charsToTokens(text.length);
}

export function charsToTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** Prompt token estimate from the request's `messages` (JSON length / 4). */
export function estimatePromptTokens(body: Record<string, unknown>): number {
  return estimateTokens(JSON.stringify(body['messages'] ?? []));
}

/** Word-ish pieces the way tokenizers emit them: leading whitespace stays with the following word. */
export function wordPieces(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Splits `text` into exactly `count` contiguous pieces (by code point; pieces are empty when text is shorter). */
export function splitExactly(text: string, count: number): string[] {
  const words = wordPieces(text);
  if (words.length >= count) return groupEvenly(words, count).map((g) => g.join(''));
  return groupEvenly(Array.from(text), count).map((g) => g.join(''));
}

function groupEvenly<T>(items: T[], count: number): T[][] {
  const groups: T[][] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = Math.round(((i + 1) * items.length) / count);
    groups.push(items.slice(start, end));
    start = end;
  }
  return groups;
}

/**
 * Content chunks for a streamed text: exactly `exact` pieces when given, otherwise one per word,
 * but never fewer than `atLeast` (so an interruption point always falls inside the text).
 */
export function contentPieces(text: string, exact?: number, atLeast = 0): string[] {
  if (exact !== undefined) return splitExactly(text, exact);
  const words = wordPieces(text);
  return words.length >= atLeast ? words : splitExactly(text, atLeast);
}

/**
 * Fragments of a serialized JSON value the way providers stream tool arguments: short runs of
 * at most `size` code points (e.g. `{"ci`, `ty":`, ` "Par`, `is"}`).
 */
export function jsonFragments(json: string, size = 5): string[] {
  const chars = Array.from(json);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}
