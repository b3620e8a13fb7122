import type { ChatRequest } from '../canonical/chat.js';
import type { Capabilities } from '../providers/target.js';
import { overflow, requestedOutput, type PromptSize } from './prompt-size.js';

/**
 * Why a target cannot serve a request without changing the answer's meaning, or undefined when
 * it can. Pure. A request that uses tools never falls back to a target without tools, and so on.
 */
export function cannotServe(request: ChatRequest, capabilities: Capabilities, prompt?: PromptSize): string | undefined {
  if (!capabilities.tools && usesTools(request)) return 'the request uses tools and this target has none';
  if (!capabilities.jsonSchema && usesJsonSchema(request)) return 'the request asks for a JSON schema this target cannot enforce';
  if (!capabilities.vision && hasImages(request)) return 'the request has images and this target has no vision';
  const wanted = request.max_completion_tokens ?? request.max_tokens;
  if (typeof wanted === 'number' && capabilities.maxOutputTokens !== undefined && wanted > capabilities.maxOutputTokens) {
    return `the request wants ${wanted} output tokens; this target gives at most ${capabilities.maxOutputTokens}`;
  }
  if (prompt) return overflow(prompt, requestedOutput(request), capabilities.maxContextTokens);
  return undefined;
}

function usesTools(request: ChatRequest): boolean {
  if (Array.isArray(request.tools) && request.tools.length > 0) return true;
  return request.messages.some((m) => m.role === 'tool' || (Array.isArray(m.tool_calls) && m.tool_calls.length > 0));
}

function usesJsonSchema(request: ChatRequest): boolean {
  const format = request.response_format as { type?: unknown } | undefined;
  return format?.type === 'json_schema';
}

function hasImages(request: ChatRequest): boolean {
  return request.messages.some((m) => Array.isArray(m.content) && m.content.some((part) => part.type === 'image_url' || part.type === 'image'));
}
