import type { ChatMessage, ChatRequest, ChatResponse } from '../canonical/chat.js';

/**
 * Mid-stream continuation: when a stream fails after text reached the client, another target
 * receives the conversation plus the answer so far and writes the rest, and the client sees one
 * uninterrupted stream. A target that accepts assistant prefill gets the partial answer as a
 * trailing assistant message (it continues it exactly); any other target gets the partial answer
 * as an assistant turn and an explicit continue-from-here user turn (it may restart a little
 * earlier: seam.ts removes the overlap).
 */
export interface ContinuationSettings {
  /** Continue cut plain-text streams (default on). */
  enabled: boolean;
  /** Also continue when the request offers tools (default off: tool calls are held whole instead). */
  withTools: boolean;
  /** Also continue when the request asks for JSON (default off: splicing two models' JSON is not safe). */
  withJson: boolean;
  /** The shortest overlap the seam removes after a continue turn; shorter repeats are left alone. */
  minOverlapChars: number;
  /** The user turn sent to a target without prefill support. */
  instruction: string;
}

export const DEFAULT_CONTINUE_INSTRUCTION =
  'Your previous answer was cut off. Continue it from exactly where it stops: do not repeat any of it, do not add an introduction or comment, start with the very next characters.';

export const DEFAULT_CONTINUATION: ContinuationSettings = {
  enabled: true,
  withTools: false,
  withJson: false,
  minOverlapChars: 12,
  instruction: DEFAULT_CONTINUE_INSTRUCTION,
};

/** How the partial answer is handed to the continuing target. */
export type ContinuationMode = 'prefill' | 'continue_turn';

/** Whether a committed stream of `request` may be continued by another target under `settings`. */
export function continuationAllowed(request: ChatRequest, settings: ContinuationSettings): boolean {
  if (!settings.enabled) return false;
  if ((request.n ?? 1) > 1) return false;
  if (Array.isArray(request.tools) && request.tools.length > 0 && !settings.withTools) return false;
  if (asksForJson(request) && !settings.withJson) return false;
  return true;
}

function asksForJson(request: ChatRequest): boolean {
  const format = request.response_format;
  if (typeof format !== 'object' || format === null) return false;
  const type = (format as { type?: unknown }).type;
  return type === 'json_object' || type === 'json_schema';
}

/**
 * The text of the answer so far, when it can be continued: plain text only. A tool call that
 * reached the client, a refusal, or an answer that is only reasoning cannot be spliced.
 */
export function continuablePartial(answer: ChatResponse): string | undefined {
  if (answer.choices.length !== 1) return undefined;
  const message = answer.choices[0]?.message;
  if (!message || (message.tool_calls?.length ?? 0) > 0 || message.refusal) return undefined;
  return typeof message.content === 'string' && message.content.length > 0 ? message.content : undefined;
}

export interface ContinuationRequest {
  request: ChatRequest;
  mode: ContinuationMode;
  /** All the answer text the target was given (a client's own prefill included): what its continuation may repeat. */
  said: string;
  /**
   * Prefill only: the whitespace cut off the end of the partial answer (providers reject a prefill
   * that ends in whitespace). The client already has it, so the seam drops the continuation's own.
   */
  trimmed: string;
}

/**
 * The request a continuing target receives: the conversation plus the partial answer — as a
 * prefill when the target declares prefill support, else followed by the continue instruction.
 * A client's own trailing prefill is merged with the partial answer. `max_tokens` is lowered by an
 * estimate of what was already written (4 characters per token), never below 1.
 */
export function continuationRequest(request: ChatRequest, partial: string, prefill: boolean, settings: ContinuationSettings): ContinuationRequest {
  const messages = [...request.messages];
  const last = messages.at(-1);
  let written = partial;
  if (last?.role === 'assistant' && typeof last.content === 'string' && !last.tool_calls) {
    // The client prefilled this answer: the partial text continues its prefill.
    messages.pop();
    written = last.content + partial;
  }
  const out: ChatRequest = { ...request, messages, stream: true };
  const budget = (limit: number | null | undefined): number | undefined => (typeof limit === 'number' ? Math.max(1, limit - Math.ceil(partial.length / 4)) : undefined);
  const maxTokens = budget(request.max_tokens);
  if (maxTokens !== undefined) out.max_tokens = maxTokens;
  const maxCompletion = budget(request.max_completion_tokens);
  if (maxCompletion !== undefined) out.max_completion_tokens = maxCompletion;
  if (prefill) {
    const body = written.replace(/\s+$/u, '');
    // Only whitespace so far: nothing to prefill, the target starts the answer afresh.
    if (body.length > 0) messages.push(assistant(body));
    return { request: out, mode: 'prefill', said: written, trimmed: written.slice(body.length) };
  }
  messages.push(assistant(written), { role: 'user', content: settings.instruction });
  return { request: out, mode: 'continue_turn', said: written, trimmed: '' };
}

function assistant(content: string): ChatMessage {
  return { role: 'assistant', content };
}
