import { z } from 'zod';
import type { ChatRequest } from '../canonical/chat.js';
import { formatPath } from '../config/config-error.js';
import type { ClientError } from '../engine/all-failed.js';
import { badRequest } from './respond.js';

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
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    const why = error instanceof Error ? error.message : 'parse error';
    return { ok: false, error: badRequest(`We could not parse the JSON body of your request: ${why}`, 'invalid_json') };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, error: badRequest('The request body must be a JSON object.', 'invalid_json') };
  }
  const parsed = chatRequest.safeParse(json);
  if (parsed.success) return { ok: true, request: parsed.data as ChatRequest };
  const issue = parsed.error.issues[0];
  if (!issue) return { ok: false, error: badRequest('Invalid request.', 'invalid_request') };
  const param = formatPath(issue.path);
  if (issue.code === 'invalid_type' && getIn(json, issue.path) === undefined) {
    return { ok: false, error: badRequest(`Missing required parameter: '${param}'.`, 'missing_required_parameter', param) };
  }
  const code = issue.code === 'invalid_type' ? 'invalid_type' : 'invalid_value';
  return { ok: false, error: badRequest(`Invalid value for '${param}': ${issue.message}.`, code, param) };
}

function getIn(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
