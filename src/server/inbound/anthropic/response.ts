import type { ChatResponse, Usage } from '../../../canonical/chat.js';
import { stopReasonFor } from './finish.js';

/** A canonical answer as an Anthropic `Message`. */
export function toAnthropicMessage(response: ChatResponse, includeThinking: boolean): Record<string, unknown> {
  const choice = response.choices[0];
  const content: Record<string, unknown>[] = [];
  const m = choice?.message;
  if (includeThinking && typeof m?.reasoning_content === 'string' && m.reasoning_content) {
    content.push({ type: 'thinking', thinking: m.reasoning_content, signature: '' });
  }
  if (typeof m?.content === 'string' && m.content) content.push(textBlock(m.content));
  if (typeof m?.refusal === 'string' && m.refusal && !m.content) content.push(textBlock(m.refusal));
  for (const call of m?.tool_calls ?? []) content.push(toolUseBlock(call.id, call.function.name, parseArguments(call.function.arguments)));
  return {
    id: messageId(response.id),
    type: 'message',
    role: 'assistant',
    model: response.model,
    content,
    stop_reason: stopReasonFor(choice?.finish_reason),
    stop_sequence: null,
    stop_details: null,
    container: null,
    usage: anthropicUsage(response.usage),
  };
}

/**
 * Blocks as the live API sends them (the recordings): a text block without citations carries no
 * `citations` field — the SDK-derived strict schema marks it required, but the wire omits it and
 * @ai-sdk/anthropic rejects `citations: null`. A tool_use block names its caller.
 */
export function textBlock(text: string): Record<string, unknown> {
  return { type: 'text', text };
}

export function toolUseBlock(id: string, name: string, input: unknown): Record<string, unknown> {
  return { type: 'tool_use', id, name, input, caller: { type: 'direct' } };
}

/**
 * Canonical usage as Anthropic's. OpenAI's prompt_tokens include cached tokens; Anthropic's
 * input_tokens do not (cache reads are counted apart), so the cached share moves across.
 */
export function anthropicUsage(usage: Usage | null | undefined): Record<string, unknown> {
  const details = usage?.prompt_tokens_details as { cached_tokens?: number } | undefined;
  const cached = details?.cached_tokens ?? 0;
  const reasoning = (usage?.completion_tokens_details as { reasoning_tokens?: number } | undefined)?.reasoning_tokens;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_creation_input_tokens: null,
    cache_read_input_tokens: cached,
    cache_creation: null,
    inference_geo: null,
    output_tokens_details: reasoning !== undefined ? { thinking_tokens: reasoning } : null,
    server_tool_use: null,
    service_tier: null,
  };
}

export function messageId(id: string): string {
  if (id.startsWith('msg_')) return id;
  return `msg_${id.replace(/^chatcmpl-/, '').replace(/[^A-Za-z0-9_-]/g, '') || 'understudy'}`;
}

export function parseArguments(text: string): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
