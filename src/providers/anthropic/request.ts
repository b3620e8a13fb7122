import type { ChatRequest } from '../../canonical/chat.js';
import { UpstreamFailure } from '../../canonical/failure.js';
import { isObject } from './decode.js';
import { toAnthropicMessages, unsupported } from './messages.js';
import { forcesToolUse, toAnthropicTools } from './tools.js';
import type { MessageCreateParams, ThinkingConfig } from './wire.js';

/**
 * Canonical chat request → Anthropic `POST /v1/messages` body. Pure.
 *
 * - `max_tokens` is required by Anthropic. When the client gives none (neither `max_tokens` nor
 *   `max_completion_tokens`) the target's whole output limit is asked for (`maxOutputTokens`,
 *   else `DEFAULT_MAX_TOKENS`): an OpenAI client that sets no limit expects none, and a small
 *   default would silently truncate. A client value above a known output limit is lowered to it.
 * - Thinking: an Anthropic-style `thinking` field is passed on; else `reasoning_effort` maps to
 *   `thinking: {type:'enabled', budget_tokens: EFFORT_BUDGETS[effort]}` (`none` = no thinking).
 *   The budget counts inside `max_tokens`, so it is capped to leave `MIN_THINKING_BUDGET` tokens
 *   for the answer, and thinking is dropped (and reported) when that leaves less than the API's
 *   minimum budget, when the tool choice forces a tool (the API forbids both), or when JSON
 *   output is emulated. With thinking on, `temperature` ≠ 1, `top_p` < 0.95 and `top_k` are
 *   dropped (the API rejects them).
 * - Parameters with no Anthropic equivalent are dropped and listed in `droppedParams` when losing
 *   them leaves the answer's shape intact; when it would not (`n` > 1, audio, legacy functions,
 *   content Anthropic cannot read) the call fails as `unsupported_parameter` before any I/O, so
 *   the engine moves to another target.
 */

export interface AnthropicRequestOptions {
  /** Stream from upstream. */
  stream: boolean;
  /** The target's largest completion, when known. */
  maxOutputTokens?: number | undefined;
}

export interface AnthropicRequest {
  body: MessageCreateParams;
  droppedParams: string[];
  /** Set when structured output is emulated with this tool (see tools.ts); the response translators need it. */
  jsonTool?: string;
}

export const DEFAULT_MAX_TOKENS = 8192;
/** The API's smallest `budget_tokens`; also the room kept for the answer when capping a budget. */
export const MIN_THINKING_BUDGET = 1024;
export const EFFORT_BUDGETS: Readonly<Record<string, number>> = { minimal: 1024, low: 2048, medium: 8192, high: 16384, xhigh: 32768 };

/** Fields this module translates (or, for `stream_options`, honours: the usage chunk is always produced). */
const TRANSLATED = new Set([
  'model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'top_k',
  'n', 'stop', 'tools', 'tool_choice', 'parallel_tool_calls', 'response_format', 'user', 'reasoning_effort', 'thinking', 'modalities',
]);
/** Understudy's own request fields: never sent upstream, never "dropped". */
const GATEWAY = new Set(['fallback_models']);
/** Fields whose loss would change the kind of answer the client gets. */
const ANSWER_CHANGING = new Set(['audio', 'functions', 'function_call']);

export function toAnthropicRequest(request: ChatRequest, model: string, options: AnthropicRequestOptions): AnthropicRequest {
  const dropped = checkParams(request);
  const clientMax = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  const limit = options.maxOutputTokens;
  const maxTokens = clientMax === undefined ? (limit ?? DEFAULT_MAX_TOKENS) : limit !== undefined ? Math.min(clientMax, limit) : clientMax;

  const tools = toAnthropicTools(request);
  let thinking = readThinking(request, dropped);
  if (thinking && thinking.config.type !== 'disabled') {
    const why = tools.jsonTool ? 'json' : forcesToolUse(tools.tool_choice) ? 'forced tool' : fitBudget(thinking.config, maxTokens);
    if (why !== undefined) {
      dropped.push(thinking.source);
      thinking = undefined;
    }
  }
  const thinkingOn = thinking !== undefined && thinking.config.type !== 'disabled';

  const { system, messages } = toAnthropicMessages(request.messages, { keepThinking: thinkingOn });
  const body: MessageCreateParams = { model, max_tokens: maxTokens, messages };
  if (system !== undefined) body.system = system;
  const stop = typeof request.stop === 'string' ? [request.stop] : (request.stop ?? []);
  if (stop.length > 0) body.stop_sequences = [...stop];
  if (typeof request.temperature === 'number') {
    const temperature = Math.min(1, Math.max(0, request.temperature)); // OpenAI 0–2, Anthropic 0–1
    if (thinkingOn && temperature !== 1) dropped.push('temperature');
    else body.temperature = temperature;
  }
  if (typeof request.top_p === 'number') {
    if (thinkingOn && request.top_p < 0.95) dropped.push('top_p');
    else body.top_p = request.top_p;
  }
  if (typeof request.top_k === 'number') {
    if (thinkingOn) dropped.push('top_k');
    else body.top_k = request.top_k;
  }
  if (tools.tools) body.tools = tools.tools;
  if (tools.tool_choice) body.tool_choice = tools.tool_choice;
  if (thinking) body.thinking = thinking.config;
  if (typeof request.user === 'string' && request.user !== '') body.metadata = { user_id: request.user };
  if (options.stream) body.stream = true;

  const out: AnthropicRequest = { body, droppedParams: dropped };
  if (tools.jsonTool) out.jsonTool = tools.jsonTool;
  return out;
}

/** Fails on what cannot be carried; returns the harmless parameters that will be dropped. */
function checkParams(request: ChatRequest): string[] {
  if (typeof request.n === 'number' && request.n > 1) {
    throw new UpstreamFailure({
      kind: 'unsupported_parameter',
      code: 'unsupported_parameter',
      param: 'n',
      message: 'n > 1: Anthropic returns one choice per request',
    });
  }
  const modalities = request.modalities;
  if (Array.isArray(modalities) && modalities.some((m) => m !== 'text')) throw unsupported('modalities', 'Anthropic answers in text only');
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(request)) {
    if (value === undefined || value === null || TRANSLATED.has(key) || GATEWAY.has(key)) continue;
    if (ANSWER_CHANGING.has(key)) throw unsupported(key, `'${key}' has no Anthropic equivalent`);
    dropped.push(key);
  }
  return dropped;
}

interface ThinkingPlan {
  config: ThinkingConfig;
  /** The client field it came from, reported if thinking has to be dropped. */
  source: 'thinking' | 'reasoning_effort';
}

function readThinking(request: ChatRequest, dropped: string[]): ThinkingPlan | undefined {
  const given = request.thinking;
  const effort = request.reasoning_effort;
  if (given !== undefined && given !== null) {
    if (effort !== undefined && effort !== null) dropped.push('reasoning_effort');
    if (isObject(given)) {
      if (given.type === 'enabled' && typeof given.budget_tokens === 'number') {
        return { config: { type: 'enabled', budget_tokens: given.budget_tokens }, source: 'thinking' };
      }
      if (given.type === 'disabled' || given.type === 'adaptive') return { config: { type: given.type }, source: 'thinking' };
    }
    dropped.push('thinking');
    return undefined;
  }
  if (effort === undefined || effort === null || effort === 'none') return undefined;
  const budget = typeof effort === 'string' && Object.hasOwn(EFFORT_BUDGETS, effort) ? EFFORT_BUDGETS[effort] : undefined;
  if (budget === undefined) {
    dropped.push('reasoning_effort');
    return undefined;
  }
  return { config: { type: 'enabled', budget_tokens: budget }, source: 'reasoning_effort' };
}

/** Caps an enabled budget inside `max_tokens`; returns why thinking cannot fit, if it cannot. */
function fitBudget(config: ThinkingConfig, maxTokens: number): string | undefined {
  if (config.type !== 'enabled') return undefined;
  const budget = Math.min(config.budget_tokens, maxTokens - MIN_THINKING_BUDGET);
  if (budget < MIN_THINKING_BUDGET) return 'max_tokens too small';
  config.budget_tokens = budget;
  return undefined;
}
