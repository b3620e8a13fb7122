import { createHash } from 'node:crypto';
import type { ToolCall, Usage } from '../../canonical/chat.js';
import type { GeminiPart, GeminiUsageMetadata } from './wire.js';

/** What one candidate's parts (of a whole response, or of one stream event) amount to. */
export interface PartsOutput {
  /** Non-thought text parts, joined. */
  text: string;
  /** `thought: true` parts, joined (present only when thoughts were asked for). */
  reasoning: string;
  calls: ToolCall[];
}

/**
 * A tool-call id for a Gemini function call, which has none on the Gemini API: `call_` + 24 hex
 * of a hash of (responseId, candidate index, ordinal of the call within the candidate, name).
 * Stable: the same answer gets the same ids whether it was streamed or not, however the bytes
 * were split. The next turn needs no mapping table — Gemini matches function responses by name,
 * and request.ts recovers the name of a `tool` message from the conversation's tool_calls.
 * When Gemini does send `functionCall.id`, that id is used as is.
 */
export function toolCallId(responseId: string, candidate: number, ordinal: number, name: string): string {
  const digest = createHash('sha256').update(`${responseId}\u0000${candidate}\u0000${ordinal}\u0000${name}`).digest('hex');
  return `call_${digest.slice(0, 24)}`;
}

export interface CallNumbering {
  responseId: string;
  candidate: number;
  /** Ordinal of the first function call in these parts (calls seen earlier in the stream). */
  firstOrdinal: number;
}

/** Reads text, thoughts and function calls out of a candidate's parts. Other parts are ignored. */
export function readParts(parts: readonly GeminiPart[] | undefined, numbering: CallNumbering): PartsOutput {
  const out: PartsOutput = { text: '', reasoning: '', calls: [] };
  for (const part of parts ?? []) {
    if (typeof part !== 'object' || part === null) continue;
    if (typeof part.text === 'string') {
      if (part.thought === true) out.reasoning += part.text;
      else out.text += part.text;
    }
    const call = part.functionCall;
    if (call && typeof call.name === 'string' && call.name.length > 0) {
      const ordinal = numbering.firstOrdinal + out.calls.length;
      const id =
        typeof call.id === 'string' && call.id.length > 0
          ? call.id
          : toolCallId(numbering.responseId, numbering.candidate, ordinal, call.name);
      out.calls.push({ id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) } });
    }
  }
  return out;
}

/**
 * Gemini usage → OpenAI usage. Gemini counts thinking apart from the answer
 * (`candidatesTokenCount` excludes `thoughtsTokenCount`; the total includes both), while OpenAI's
 * `completion_tokens` includes reasoning tokens and names them in `completion_tokens_details`.
 * So completion = candidates + thoughts, and prompt + completion = total. Tool-use prompt tokens
 * (server-side tools) count as prompt tokens.
 */
export function toUsage(meta: GeminiUsageMetadata): Usage {
  const prompt = count(meta.promptTokenCount) + count(meta.toolUsePromptTokenCount);
  const thoughts = count(meta.thoughtsTokenCount);
  const completion = count(meta.candidatesTokenCount) + thoughts;
  const total = typeof meta.totalTokenCount === 'number' ? meta.totalTokenCount : prompt + completion;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total };
  const cached = count(meta.cachedContentTokenCount);
  if (cached > 0) usage.prompt_tokens_details = { cached_tokens: cached };
  if (thoughts > 0) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
