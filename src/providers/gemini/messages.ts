import type { ChatMessage, ContentPart, ToolCall } from '../../canonical/chat.js';
import { guessMimeType, mediaPart, parseDataUrl, TranslationError } from './media.js';
import type { GeminiContent, GeminiPart, GeminiRole } from './wire.js';

/**
 * Google's documented sentinel for a replayed function call whose thought signature was lost
 * (history from another model, or a client that keeps only OpenAI fields). Gemini 3 rejects a
 * replayed functionCall without a signature; older models do not ask for one.
 */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

export interface Contents {
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
}

/** Gemini 3 and later require thought signatures on replayed function calls. */
export function needsThoughtSignatures(model: string): boolean {
  const match = /gemini-(\d+)/i.exec(model);
  return match?.[1] !== undefined && Number(match[1]) >= 3;
}

/**
 * The conversation as Gemini contents. system/developer → `systemInstruction` (all of them, in
 * order: Gemini has one); user → `user`; assistant → `model`; tool results → `functionResponse`
 * parts in a `user` turn. Consecutive turns of the same role are merged (parallel tool results
 * become one turn, as Gemini wants). A conversation of system messages only is sent as a user turn.
 */
export function toContents(messages: readonly ChatMessage[], model: string): Contents {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const callNames = new Map<string, string>();
  const signatures = needsThoughtSignatures(model);
  const push = (role: GeminiRole, parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  messages.forEach((message, i) => {
    const at = `messages[${i}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(message.content, `${at}.content`, false));
        return;
      case 'user':
        push('user', userParts(message.content, `${at}.content`));
        return;
      case 'assistant':
        for (const call of message.tool_calls ?? []) callNames.set(call.id, call.function.name);
        push('model', modelParts(message, at, signatures));
        return;
      case 'tool':
        push('user', [{ functionResponse: { name: toolName(message, callNames, at), response: toolResponse(message.content) } }]);
        return;
      case 'function':
        if (typeof message.name !== 'string' || !message.name) {
          throw new TranslationError('invalid_request', `${at}.name`, `'${at}.name' is required for a function message`);
        }
        push('user', [{ functionResponse: { name: message.name, response: toolResponse(message.content) } }]);
        return;
      default:
        return assertNever(message.role, at);
    }
  });

  if (contents.length === 0) return { contents: system.length > 0 ? [{ role: 'user', parts: system }] : [] };
  return system.length > 0 ? { contents, systemInstruction: { parts: system } } : { contents };
}

function textParts(content: ChatMessage['content'], param: string, allowRefusal: boolean): GeminiPart[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  const parts: GeminiPart[] = [];
  content.forEach((part, i) => {
    if (part.type === 'text' && typeof part.text === 'string') {
      if (part.text) parts.push({ text: part.text });
    } else if (!(allowRefusal && part.type === 'refusal')) {
      throw new TranslationError('unsupported_parameter', `${param}[${i}]`, `content part type '${part.type}' is not supported here by Gemini`);
    }
  });
  return parts;
}

function userParts(content: ChatMessage['content'], param: string): GeminiPart[] {
  if (content === undefined || content === null || typeof content === 'string') return textParts(content, param, false);
  const parts: GeminiPart[] = [];
  content.forEach((part, i) => {
    const converted = userPart(part, `${param}[${i}]`);
    if (converted) parts.push(converted);
  });
  return parts;
}

function userPart(part: ContentPart, param: string): GeminiPart | undefined {
  const field = (part as Record<string, unknown>)[part.type];
  switch (part.type) {
    case 'text':
      return typeof part.text === 'string' && part.text ? { text: part.text } : undefined;
    case 'image_url': {
      const url = typeof field === 'string' ? field : (field as { url?: unknown } | undefined)?.url;
      if (typeof url !== 'string') throw new TranslationError('invalid_request', `${param}.image_url.url`, `'${param}.image_url.url' is required`);
      return mediaPart(url, `${param}.image_url.url`);
    }
    case 'input_audio': {
      const audio = field as { data?: unknown; format?: unknown } | undefined;
      if (typeof audio?.data !== 'string') throw new TranslationError('invalid_request', `${param}.input_audio.data`, `'${param}.input_audio.data' is required`);
      const format = typeof audio.format === 'string' ? audio.format : 'wav';
      return { inlineData: { mimeType: `audio/${format}`, data: audio.data } };
    }
    case 'file': {
      const file = field as { file_data?: unknown; filename?: unknown } | undefined;
      if (typeof file?.file_data !== 'string') {
        throw new TranslationError('unsupported_parameter', `${param}.file`, `'${param}.file' needs file_data (uploaded file ids are OpenAI's)`);
      }
      const inline = parseDataUrl(file.file_data);
      if (inline) return { inlineData: inline };
      const mimeType = typeof file.filename === 'string' ? guessMimeType(file.filename) : undefined;
      if (!mimeType) throw new TranslationError('unsupported_parameter', `${param}.file`, `cannot tell the MIME type of '${param}.file'`);
      return { inlineData: { mimeType, data: file.file_data } };
    }
    default:
      throw new TranslationError('unsupported_parameter', param, `content part type '${part.type}' is not supported by Gemini`);
  }
}

/** Assistant text, then its tool calls as functionCall parts (args parsed from the JSON string). */
function modelParts(message: ChatMessage, at: string, signatures: boolean): GeminiPart[] {
  const parts = textParts(message.content, `${at}.content`, true);
  const calls: { name: string; arguments: string; signature?: unknown }[] = (message.tool_calls ?? []).map((call: ToolCall) => ({
    name: call.function.name,
    arguments: call.function.arguments,
    signature: (call as { extra_content?: { google?: { thought_signature?: unknown } } }).extra_content?.google?.thought_signature,
  }));
  const legacy = message.function_call as { name?: unknown; arguments?: unknown } | undefined;
  if (legacy && typeof legacy.name === 'string') calls.push({ name: legacy.name, arguments: String(legacy.arguments ?? '{}') });
  calls.forEach((call, i) => {
    const part: GeminiPart = { functionCall: { name: call.name, args: parseArgs(call.arguments) } };
    if (typeof call.signature === 'string' && call.signature) part.thoughtSignature = call.signature;
    else if (signatures && i === 0) part.thoughtSignature = SKIP_SIGNATURE;
    parts.push(part);
  });
  return parts;
}

/** Tool-call arguments as an object: Gemini's `args` is a Struct. Anything else is kept as a string. */
function parseArgs(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // not JSON: kept below
  }
  return { arguments: text };
}

/** Gemini has no tool-call ids: a tool result names its function, found from the call it answers. */
function toolName(message: ChatMessage, callNames: Map<string, string>, at: string): string {
  const name = (message.tool_call_id !== undefined ? callNames.get(message.tool_call_id) : undefined) ?? message.name;
  if (typeof name === 'string' && name) return name;
  throw new TranslationError(
    'invalid_request',
    `${at}.tool_call_id`,
    `'${at}.tool_call_id' does not answer any earlier assistant tool call`,
  );
}

/** The tool's output as a Struct: a JSON object as is, anything else as `{content: text}`. */
function toolResponse(content: ChatMessage['content']): Record<string, unknown> {
  const text =
    typeof content === 'string'
      ? content
      : (content ?? []).map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // plain text
  }
  return { content: text };
}

function assertNever(role: never, at: string): never {
  throw new TranslationError('invalid_request', `${at}.role`, `unknown role '${String(role)}' in '${at}'`);
}
