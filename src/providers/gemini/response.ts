import type { ChatChoice, ChatResponse } from '../../canonical/chat.js';
import { UpstreamFailure } from '../../canonical/failure.js';
import { readParts, toUsage } from './candidate.js';
import { classifyGeminiError, readGeminiError } from './errors.js';
import { finishVerdict } from './finish-reason.js';
import type { GenerateContentResponse } from './wire.js';

export interface ResponseContext {
  /** The model asked for; the answer names `modelVersion` when Gemini reports it. */
  model: string;
  /** Unix seconds. */
  created: number;
}

/**
 * A prompt Gemini refused to answer: HTTP 200, no candidates, `promptFeedback.blockReason`.
 * A safety decision, not an outage.
 */
export function blockedPrompt(body: GenerateContentResponse): UpstreamFailure | undefined {
  const reason = body.promptFeedback?.blockReason;
  if ((body.candidates?.length ?? 0) > 0 || typeof reason !== 'string') return undefined;
  return new UpstreamFailure({
    kind: 'content_policy',
    code: reason,
    message: `Gemini blocked the prompt (promptFeedback.blockReason ${reason})`,
  });
}

/** A complete GenerateContentResponse → the canonical response. Throws for a blocked prompt or a malformed function call. */
export function fromGeminiResponse(body: GenerateContentResponse, ctx: ResponseContext): ChatResponse {
  const blocked = blockedPrompt(body);
  if (blocked) throw blocked;
  const id = body.responseId ?? `gemini-${ctx.created}`;
  const choices: ChatChoice[] = (body.candidates ?? []).map((candidate, position) => {
    const index = candidate.index ?? position;
    const out = readParts(candidate.content?.parts, { responseId: id, candidate: index, firstOrdinal: 0 });
    const verdict = finishVerdict(candidate.finishReason ?? 'FINISH_REASON_UNSPECIFIED', out.calls.length > 0);
    if (!verdict.ok) throw new UpstreamFailure({ kind: 'malformed_response', code: verdict.code, message: verdict.message });
    const message: ChatChoice['message'] = {
      role: 'assistant',
      content: out.text.length > 0 || out.calls.length === 0 ? out.text : null,
      refusal: null,
    };
    if (out.reasoning) message.reasoning_content = out.reasoning;
    if (out.calls.length > 0) message.tool_calls = out.calls;
    return { index, message, logprobs: null, finish_reason: verdict.reason };
  });
  const response: ChatResponse = {
    id,
    object: 'chat.completion',
    created: ctx.created,
    model: body.modelVersion ?? ctx.model,
    choices: choices.sort((a, b) => a.index - b.index),
  };
  if (body.usageMetadata) response.usage = toUsage(body.usageMetadata);
  return response;
}

/** Parses a non-streaming body: a GenerateContentResponse, or an error envelope that came with a 2xx. */
export function parseGeminiResponse(text: string, ctx: ResponseContext, secrets: readonly string[]): ChatResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UpstreamFailure({ kind: 'malformed_response', code: 'invalid_json', message: `upstream body is not JSON: ${text.slice(0, 120)}` });
  }
  const error = readGeminiError(parsed);
  if (error) throw new UpstreamFailure(classifyGeminiError(undefined, error, text, undefined, secrets));
  if (!isResponse(parsed)) {
    throw new UpstreamFailure({
      kind: 'malformed_response',
      code: 'not_a_response',
      message: 'upstream body is not a GenerateContentResponse',
    });
  }
  return fromGeminiResponse(parsed, ctx);
}

/** Shape check of what we read (objects where objects are expected); extra fields are fine. */
export function isResponse(value: unknown): value is GenerateContentResponse {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { candidates, usageMetadata, promptFeedback } = value as Record<string, unknown>;
  if (candidates !== undefined) {
    if (!Array.isArray(candidates)) return false;
    for (const c of candidates) {
      if (typeof c !== 'object' || c === null) return false;
      const content = (c as { content?: unknown }).content;
      if (content !== undefined && (typeof content !== 'object' || content === null)) return false;
      const parts = (content as { parts?: unknown } | undefined)?.parts;
      if (parts !== undefined && !Array.isArray(parts)) return false;
    }
  }
  if (usageMetadata !== undefined && (typeof usageMetadata !== 'object' || usageMetadata === null)) return false;
  if (promptFeedback !== undefined && (typeof promptFeedback !== 'object' || promptFeedback === null)) return false;
  return candidates !== undefined || usageMetadata !== undefined || promptFeedback !== undefined;
}
