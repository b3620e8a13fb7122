import type { ChatRequest } from '../../canonical/chat.js';
import { UpstreamFailure } from '../../canonical/failure.js';
import { TranslationError } from './media.js';
import { toContents } from './messages.js';
import { toToolConfig, toTools } from './tools.js';
import type { GeminiGenerationConfig, GeminiThinkingConfig, GenerateContentRequest } from './wire.js';

export interface GeminiRequestOptions {
  /**
   * Ask Gemini for its thought summaries (`thinkingConfig.includeThoughts`), returned as
   * `reasoning_content`. Off by default: OpenAI-wire clients do not expect them.
   */
  includeThoughts?: boolean;
}

export interface GeminiRequestTranslation {
  body: GenerateContentRequest;
  /** Harmless parameters with no Gemini equivalent that were left out. */
  droppedParams: string[];
}

/** Translated into the body (or the URL: `stream`, `model`), or Understudy's own. */
const HANDLED = new Set([
  'model',
  'messages',
  'stream',
  // include_usage is honoured: a Gemini stream always ends with usage, and the inbound API decides
  // whether the client sees it. So this is not reported as dropped.
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'n',
  'stop',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'response_format',
  'reasoning_effort',
  'tools',
  'tool_choice',
  'fallback_models',
]);

/** No Gemini equivalent, and leaving them out does not change what a correct answer is. */
const HARMLESS = new Set([
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'user',
  'service_tier',
  'store',
  'parallel_tool_calls',
  'metadata',
  'prompt_cache_key',
  'prompt_cache_retention',
  'safety_identifier',
  'verbosity',
]);

/**
 * `reasoning_effort` → `thinkingConfig.thinkingBudget` (tokens), the mapping Google's own
 * OpenAI-compatible endpoint uses for low/medium/high (1K/8K/24K) and `none` (0, thinking off;
 * Gemini 2.5 Pro cannot turn it off and answers 400 → unsupported_parameter → next target).
 * `minimal` has no Google-published number: 512 (the smallest budget Flash-Lite accepts).
 * `xhigh` is capped at 24,576, the largest budget every 2.5 model accepts. The strict v1beta
 * schema has no `thinkingLevel`, so Gemini 3 gets a budget too (which it still honours).
 */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24576,
  xhigh: 24576,
};

/**
 * The canonical (OpenAI-shaped) request as a Gemini GenerateContentRequest. Pure. Throws an
 * `UpstreamFailure` for what Gemini cannot do: `unsupported_parameter` (our translation's limit:
 * another target may serve it) or `invalid_request` (the request itself is wrong).
 */
export function toGeminiRequest(req: ChatRequest, model: string, opts: GeminiRequestOptions = {}): GeminiRequestTranslation {
  try {
    return translate(req, model, opts);
  } catch (error) {
    if (!(error instanceof TranslationError)) throw error;
    throw new UpstreamFailure({ kind: error.kind, code: error.kind, param: error.param, message: error.message });
  }
}

function translate(req: ChatRequest, model: string, opts: GeminiRequestOptions): GeminiRequestTranslation {
  const droppedParams = checkParams(req);
  const { contents, systemInstruction } = toContents(req.messages, model);
  const body: GenerateContentRequest = { contents };
  if (systemInstruction) body.systemInstruction = systemInstruction;
  const tools = toTools(req.tools, req.tool_choice);
  if (tools) {
    body.tools = tools;
    const toolConfig = toToolConfig(req.tool_choice);
    if (toolConfig) body.toolConfig = toolConfig;
  }
  const generationConfig = toGenerationConfig(req, opts);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  return { body, droppedParams };
}

function checkParams(req: ChatRequest): string[] {
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(req)) {
    if (HANDLED.has(key) || value === undefined || value === null) continue;
    if (HARMLESS.has(key)) dropped.push(key);
    else if (key === 'modalities' && Array.isArray(value) && value.every((m) => m === 'text')) continue;
    else throw new TranslationError('unsupported_parameter', key, `'${key}' is not supported by the Gemini adapter`);
  }
  return dropped;
}

function toGenerationConfig(req: ChatRequest, opts: GeminiRequestOptions): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  const stop = typeof req.stop === 'string' ? [req.stop] : Array.isArray(req.stop) ? req.stop : [];
  if (stop.length > 0) config.stopSequences = stop;
  const maxTokens = num(req, 'max_completion_tokens') ?? num(req, 'max_tokens');
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  setNum(config, 'temperature', num(req, 'temperature'));
  setNum(config, 'topP', num(req, 'top_p'));
  setNum(config, 'topK', num(req, 'top_k'));
  setNum(config, 'candidateCount', num(req, 'n'));
  setNum(config, 'seed', num(req, 'seed'));
  setNum(config, 'presencePenalty', num(req, 'presence_penalty'));
  setNum(config, 'frequencyPenalty', num(req, 'frequency_penalty'));
  Object.assign(config, responseFormat(req.response_format));
  const thinking = thinkingConfig(req.reasoning_effort, opts);
  if (thinking) config.thinkingConfig = thinking;
  return config;
}

function responseFormat(format: unknown): Pick<GeminiGenerationConfig, 'responseMimeType' | 'responseJsonSchema'> {
  if (format === undefined || format === null) return {};
  const type = (format as { type?: unknown }).type;
  if (type === 'text') return {};
  if (type === 'json_object') return { responseMimeType: 'application/json' };
  if (type === 'json_schema') {
    const schema = (format as { json_schema?: { schema?: unknown } }).json_schema?.schema;
    return typeof schema === 'object' && schema !== null
      ? { responseMimeType: 'application/json', responseJsonSchema: schema }
      : { responseMimeType: 'application/json' };
  }
  throw new TranslationError('unsupported_parameter', 'response_format.type', `response_format type '${String(type)}' is not supported by Gemini`);
}

function thinkingConfig(effort: unknown, opts: GeminiRequestOptions): GeminiThinkingConfig | undefined {
  const config: GeminiThinkingConfig = {};
  if (effort !== undefined && effort !== null) {
    const budget = typeof effort === 'string' ? THINKING_BUDGETS[effort] : undefined;
    if (budget === undefined) {
      throw new TranslationError('unsupported_parameter', 'reasoning_effort', `reasoning_effort '${String(effort)}' has no Gemini thinking budget`);
    }
    config.thinkingBudget = budget;
  }
  if (opts.includeThoughts && config.thinkingBudget !== 0) config.includeThoughts = true;
  return Object.keys(config).length > 0 ? config : undefined;
}

function num(req: ChatRequest, key: string): number | undefined {
  const value = req[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TranslationError('invalid_request', key, `'${key}' must be a number`);
  }
  return value;
}

function setNum<K extends keyof GeminiGenerationConfig>(config: GeminiGenerationConfig, key: K, value: number | undefined): void {
  if (value !== undefined) (config as Record<K, unknown>)[key] = value;
}
