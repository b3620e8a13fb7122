import { z } from 'zod';
import type { ChatMessage, ChatRequest, ContentPart, ToolCall } from '../../../canonical/chat.js';
import { attachNativeRequest } from '../../../canonical/native.js';
import { formatPath } from '../../../config/config-error.js';
import type { ClientError } from '../../../engine/all-failed.js';

/**
 * Anthropic Messages requests (`POST /v1/messages`) → the canonical request. Known fields are
 * validated; the translation keeps meaning (system, tools, tool results, images, stop
 * sequences, structured output); Anthropic-only fields with no canonical equivalent (`top_k`, `cache_control`) are
 * dropped here and kept only by a same-format pass-through.
 */
const block = z.looseObject({ type: z.string() });
const message = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(block)]),
});
const tool = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.looseObject({}).optional(),
  type: z.string().optional(),
});
/** Structured outputs: `output_config.format` (GA) or the beta's top-level `output_format`. */
const outputFormat = z.looseObject({ type: z.literal('json_schema'), schema: z.looseObject({}) });
const toolChoice = z.looseObject({
  type: z.enum(['auto', 'any', 'tool', 'none']),
  name: z.string().optional(),
  disable_parallel_tool_use: z.boolean().optional(),
});

export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(message).min(1, 'must contain at least one message'),
  system: z.union([z.string(), z.array(block)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().nonnegative().optional(),
  stream: z.boolean().optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  metadata: z.looseObject({ user_id: z.string().nullable().optional() }).optional(),
  thinking: z.looseObject({ type: z.string(), budget_tokens: z.number().optional() }).optional(),
  output_config: z.looseObject({ format: outputFormat.nullable().optional() }).optional(),
  output_format: outputFormat.nullable().optional(),
  fallback_models: z.array(z.string().min(1)).optional(),
});

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
type Block = z.infer<typeof block>;

export type AnthropicParsed = { ok: true; request: ChatRequest; thinking: boolean } | { ok: false; error: ClientError };

function invalid(message: string, param: string | null = null): ClientError {
  return { status: 400, message, type: 'invalid_request_error', code: 'invalid_request_error', param };
}

/** Parses and validates a Messages body, then translates it. Errors name the field, as Anthropic's do. */
export function parseMessagesRequest(body: Buffer): AnthropicParsed {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { ok: false, error: invalid(`The request body is not valid JSON: ${error instanceof Error ? error.message : 'parse error'}`) };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, error: invalid('The request body must be a JSON object.') };
  const parsed = messagesRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? formatPath(issue.path) : '';
    const missing = issue?.code === 'invalid_type' && issue.message.includes('undefined');
    return { ok: false, error: invalid(missing ? `${path}: Field required` : `${path}: ${issue?.message ?? 'invalid'}`, path) };
  }
  const translated = toCanonical(parsed.data);
  if (translated.ok) attachNativeRequest(translated.request, { format: 'anthropic', body: json as Record<string, unknown> });
  return translated;
}

export function toCanonical(req: MessagesRequest): AnthropicParsed {
  const messages: ChatMessage[] = [];
  const system = systemText(req.system);
  if (system) messages.push({ role: 'system', content: system });
  for (const [i, m] of req.messages.entries()) {
    const translated = m.role === 'user' ? userTurn(m.content) : assistantTurn(m.content);
    if ('error' in translated) return { ok: false, error: invalid(`messages[${i}]: ${translated.error}`, `messages[${i}]`) };
    messages.push(...translated.messages);
  }
  const out: ChatRequest = { model: req.model, messages, max_tokens: req.max_tokens, stream: req.stream === true };
  if (req.stream) out.stream_options = { include_usage: true };
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.stop_sequences && req.stop_sequences.length > 0) out.stop = req.stop_sequences;
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  if (req.fallback_models) out.fallback_models = req.fallback_models;
  if (req.tools && req.tools.length > 0) {
    out.tools = req.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.input_schema ?? { type: 'object', properties: {} } },
    }));
  }
  if (req.tool_choice) {
    const c = req.tool_choice;
    out.tool_choice = c.type === 'auto' ? 'auto' : c.type === 'any' ? 'required' : c.type === 'none' ? 'none' : { type: 'function', function: { name: c.name ?? '' } };
    if (c.disable_parallel_tool_use) out.parallel_tool_calls = false;
  }
  const format = req.output_config?.format ?? req.output_format;
  // Anthropic's JSON output is OpenAI's json_schema response format; the answer comes back as text either way.
  if (format) out.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema } };
  const thinking = req.thinking?.type === 'enabled';
  // Anthropic's `thinking` is not a parameter other formats know (OpenAI rejects it): the
  // canonical request carries the portable `reasoning_effort`, which every adapter maps to its
  // own knob. An Anthropic target served by pass-through still receives the exact `thinking`.
  if (thinking) out.reasoning_effort = reasoningEffort(req.thinking?.budget_tokens);
  return { ok: true, request: out, thinking };
}

/** A thinking budget as OpenAI's effort scale (the Anthropic adapter maps it back to 2048 / 8192 / 16384). */
export function reasoningEffort(budget: number | undefined): 'low' | 'medium' | 'high' {
  if (budget === undefined || budget >= 12_288) return budget === undefined ? 'medium' : 'high';
  return budget < 4_096 ? 'low' : 'medium';
}

function systemText(system: MessagesRequest['system']): string {
  if (system === undefined) return '';
  if (typeof system === 'string') return system;
  return system
    .filter((b) => b.type === 'text')
    .map((b) => String(b.text ?? ''))
    .join('\n\n');
}

type Turn = { messages: ChatMessage[] } | { error: string };

function userTurn(content: string | Block[]): Turn {
  if (typeof content === 'string') return { messages: [{ role: 'user', content }] };
  const tools: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  for (const b of content) {
    if (b.type === 'tool_result') {
      tools.push({ role: 'tool', tool_call_id: String(b.tool_use_id ?? ''), content: toolResultText(b) });
    } else if (b.type === 'text') {
      parts.push({ type: 'text', text: String(b.text ?? '') });
    } else if (b.type === 'image') {
      const url = imageUrl(b);
      if (!url) return { error: 'image block needs a base64 or url source' };
      parts.push({ type: 'image_url', image_url: { url } });
    } else {
      return { error: `content block type '${b.type}' is not supported for this route` };
    }
  }
  // Tool results answer the previous assistant turn, so they come first.
  const messages = [...tools];
  if (parts.length > 0) {
    const onlyText = parts.every((p) => p.type === 'text');
    messages.push({ role: 'user', content: onlyText ? parts.map((p) => (p as { text: string }).text).join('\n') : parts });
  }
  return { messages };
}

function assistantTurn(content: string | Block[]): Turn {
  if (typeof content === 'string') return { messages: [{ role: 'assistant', content }] };
  let text = '';
  const calls: ToolCall[] = [];
  for (const b of content) {
    if (b.type === 'text') text += String(b.text ?? '');
    else if (b.type === 'tool_use') {
      calls.push({ id: String(b.id ?? ''), type: 'function', function: { name: String(b.name ?? ''), arguments: JSON.stringify(b.input ?? {}) } });
    } else if (b.type === 'thinking' || b.type === 'redacted_thinking') {
      continue; // a signed thinking block only means something to the model that wrote it
    } else return { error: `content block type '${b.type}' is not supported in an assistant turn` };
  }
  const msg: ChatMessage = { role: 'assistant', content: text || (calls.length > 0 ? null : '') };
  if (calls.length > 0) msg.tool_calls = calls;
  return { messages: [msg] };
}

function toolResultText(b: Block): string {
  const c = b.content;
  const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((x: { type?: string; text?: string }) => (x.type === 'text' ? (x.text ?? '') : '')).join('\n') : '';
  return b.is_error === true ? `Error: ${text}` : text;
}

function imageUrl(b: Block): string | undefined {
  const source = b.source as { type?: string; media_type?: string; data?: string; url?: string } | undefined;
  if (source?.type === 'base64' && source.data) return `data:${source.media_type ?? 'image/png'};base64,${source.data}`;
  if (source?.type === 'url' && source.url) return source.url;
  return undefined;
}
