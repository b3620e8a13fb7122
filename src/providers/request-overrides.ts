import type { ChatMessage, ChatRequest } from '../canonical/chat.js';
import type { CallOptions, Target, UpstreamCall } from './target.js';

/** Per-target request edits from config: normalise prompts and parameters for one model. */
export interface RequestOverrides {
  /** Replaces the system prompt (or adds one). */
  system?: string;
  /** Prepended to the system prompt (a new system message when there is none). */
  systemPrefix?: string;
  /** Parameters set to these values. */
  set?: Record<string, unknown>;
  /** Parameters renamed, e.g. `max_tokens → max_completion_tokens` for reasoning models. */
  rename?: Record<string, string>;
  /** Parameters removed, e.g. `temperature` for models that reject it. */
  remove?: string[];
  /** Extra HTTP headers sent with this model's requests. */
  headers?: Record<string, string>;
}

const PROTECTED = new Set(['model', 'messages', 'stream', 'fallback_models']);

/** Applies overrides to a request. Pure: returns a new request; `model`, `messages` and `stream` are never touched by set/rename/remove. */
export function applyOverrides(request: ChatRequest, o: RequestOverrides): ChatRequest {
  const out: ChatRequest = { ...request };
  for (const [from, to] of Object.entries(o.rename ?? {})) {
    if (PROTECTED.has(from) || PROTECTED.has(to) || !(from in out)) continue;
    out[to] = out[from];
    delete out[from];
  }
  for (const key of o.remove ?? []) if (!PROTECTED.has(key)) delete out[key];
  for (const [key, value] of Object.entries(o.set ?? {})) if (!PROTECTED.has(key)) out[key] = value;
  if (o.system !== undefined || o.systemPrefix !== undefined) out.messages = editSystem(request.messages, o);
  return out;
}

function editSystem(messages: ChatMessage[], o: RequestOverrides): ChatMessage[] {
  const index = messages.findIndex((m) => m.role === 'system' || m.role === 'developer');
  const current = index >= 0 ? textOf(messages[index] as ChatMessage) : '';
  const base = o.system ?? current;
  const text = o.systemPrefix ? (base ? `${o.systemPrefix}\n\n${base}` : o.systemPrefix) : base;
  if (index < 0) return [{ role: 'system', content: text }, ...messages];
  const out = [...messages];
  out[index] = { ...(messages[index] as ChatMessage), content: text };
  return out;
}

function textOf(message: ChatMessage): string {
  if (typeof message.content === 'string') return message.content;
  if (!Array.isArray(message.content)) return '';
  return message.content.map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
}

/** A target whose requests are edited before they leave. Everything else is the wrapped target's. */
export function withOverrides(target: Target, overrides: RequestOverrides): Target {
  return {
    id: target.id,
    provider: target.provider,
    model: target.model,
    capabilities: target.capabilities,
    streamsUpstream: (stream) => target.streamsUpstream(stream),
    call: (request: ChatRequest, options: CallOptions): Promise<UpstreamCall> =>
      target.call(applyOverrides(request, overrides), overrides.headers ? { ...options, headers: { ...options.headers, ...overrides.headers } } : options),
  };
}
