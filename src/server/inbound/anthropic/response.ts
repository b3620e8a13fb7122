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
  if (typeof m?.content === 'string' && m.content) content.push({ type: 'text', text: m.content });
  if (typeof m?.refusal === 'string' && m.refusal && !m.content) content.push({ type: 'text', text: m.refusal });
  for (const call of m?.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call.function.arguments) });
  }
  return {
    id: messageId(response.id),
    type: 'message',
    role: 'assistant',
    model: response.model,
    content,
    stop_reason: stopReasonFor(choice?.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(response.usage),
  };
}

export function anthropicUsage(usage: Usage | null | undefined): { input_tokens: number; output_tokens: number } {
  return { input_tokens: usage?.prompt_tokens ?? 0, output_tokens: usage?.completion_tokens ?? 0 };
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
