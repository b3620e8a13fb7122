import { z } from 'zod';
import type { ChatRequest } from '../canonical/chat.js';
import type { ClientError } from '../engine/all-failed.js';
import { parseJsonRequest } from './json-request.js';

/**
 * The inbound chat-completions request. Known fields are type-checked; unknown fields pass
 * through untouched to OpenAI-wire upstreams.
 */
const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

const contentPart = z.looseObject({ type: z.string() });
const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const message = z.looseObject({
  role: z.enum(ROLES),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: z.array(toolCall).optional(),
  tool_call_id: z.string().optional(),
});

const nullableNumber = (min: number, max: number) => z.number().min(min).max(max).nullable().optional();

const chatRequest = z.looseObject({
  model: z.string().min(1, 'must not be empty'),
  messages: z.array(message).min(1, 'must contain at least one message'),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: nullableNumber(0, 2),
  top_p: nullableNumber(0, 1),
  n: z.number().int().min(1).max(128).nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4), z.null()]).optional(),
  tools: z.array(z.looseObject({ type: z.string() })).optional(),
  user: z.string().optional(),
  fallback_models: z.array(z.string().min(1)).optional(),
});

export type ParsedChat = { ok: true; request: ChatRequest } | { ok: false; error: ClientError };

/** Parses a JSON body into a ChatRequest, or a 400 in OpenAI's style naming the parameter. */
export function parseChatRequest(body: Buffer): ParsedChat {
  const parsed = parseJsonRequest(body, chatRequest);
  return parsed.ok ? { ok: true, request: parsed.value as ChatRequest } : parsed;
}
