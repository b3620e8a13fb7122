import type { ChatMessage, ContentPart } from '../../canonical/chat.js';
import { UpstreamFailure } from '../../canonical/failure.js';
import { isObject } from './decode.js';
import { THINKING_BLOCKS_FIELD, readThinkingBlocks } from './thinking-blocks.js';
import type {
  CacheControl,
  ContentBlockParam,
  DocumentBlockParam,
  ImageBlockParam,
  ImageMediaType,
  JsonValue,
  MessageParam,
  TextBlockParam,
  ToolResultBlockParam,
} from './wire.js';

/**
 * Canonical (OpenAI) messages → Anthropic `system` + alternating user/assistant turns. Pure.
 *
 * `system`/`developer` messages, wherever they stand, are gathered in order into the top-level
 * `system`. Consecutive same-role messages merge into one turn; `tool` messages become
 * `tool_result` blocks opening a user turn; assistant `tool_calls` become `tool_use` blocks. A
 * final assistant message is a prefill (trailing whitespace trimmed: the API rejects it).
 * Content Anthropic cannot carry is an `unsupported_parameter` failure (another target may serve
 * the request), never silently lost.
 */

export interface TranslatedMessages {
  system?: string | TextBlockParam[];
  messages: MessageParam[];
}

export interface MessageOptions {
  /** Send earlier thinking blocks back (only valid when this request enables thinking). */
  keepThinking: boolean;
}

interface Turn {
  role: 'user' | 'assistant';
  blocks: ContentBlockParam[];
}

export function toAnthropicMessages(messages: readonly ChatMessage[], options: MessageOptions): TranslatedMessages {
  const system: TextBlockParam[] = [];
  const turns: Turn[] = [];
  const push = (role: Turn['role'], blocks: ContentBlockParam[]): void => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    // Anthropic requires alternation: consecutive same-role messages become one turn.
    if (last && last.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  };
  for (const [i, message] of messages.entries()) {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(message.content, `messages[${i}]`));
        break;
      case 'user':
        push('user', userBlocks(message.content, `messages[${i}]`));
        break;
      case 'assistant':
        push('assistant', assistantBlocks(message, i, options));
        break;
      case 'tool':
        push('user', [toolResult(message, i)]);
        break;
      case 'function':
        throw unsupported(`messages[${i}]`, "legacy 'function' messages have no Anthropic equivalent");
      default:
        throw unsupported(`messages[${i}].role`, `unknown role '${String(message.role)}'`);
    }
  }
  trimFinalAssistant(turns);
  const out: TranslatedMessages = { messages: turns.map(toMessageParam) };
  if (system.length > 0) out.system = system.length === 1 && !system[0]?.cache_control ? (system[0] as TextBlockParam).text : system;
  return out;
}

function toMessageParam(turn: Turn): MessageParam {
  // Tool results must open a user turn; any text the client put before them goes after.
  const blocks =
    turn.role === 'user'
      ? [...turn.blocks.filter((b) => b.type === 'tool_result'), ...turn.blocks.filter((b) => b.type !== 'tool_result')]
      : turn.blocks;
  const only = blocks[0];
  if (blocks.length === 1 && only?.type === 'text' && !only.cache_control) return { role: turn.role, content: only.text };
  return { role: turn.role, content: blocks };
}

/** A final assistant turn is a prefill; the API rejects one that ends in whitespace. */
function trimFinalAssistant(turns: Turn[]): void {
  const last = turns[turns.length - 1];
  if (!last || last.role !== 'assistant') return;
  const block = last.blocks[last.blocks.length - 1];
  if (block?.type !== 'text') return;
  block.text = block.text.trimEnd();
  if (block.text === '') last.blocks.pop();
  if (last.blocks.length === 0) turns.pop();
}

function textBlocks(content: ChatMessage['content'], where: string): TextBlockParam[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  const out: TextBlockParam[] = [];
  for (const [j, part] of (content ?? []).entries()) {
    if (part.type === 'text' || part.type === 'refusal') {
      const text = field(part, part.type);
      if (typeof text === 'string' && text !== '') out.push({ type: 'text', text, ...cacheFrom(part) });
    } else {
      throw unsupported(`${where}.content[${j}]`, `content part '${part.type}' is not supported here`);
    }
  }
  return out;
}

function userBlocks(content: ChatMessage['content'], where: string): ContentBlockParam[] {
  if (typeof content === 'string' || content == null) return textBlocks(content, where);
  return content.flatMap((part, j) => partBlocks(part, `${where}.content[${j}]`));
}

function partBlocks(part: ContentPart, where: string): (TextBlockParam | ImageBlockParam | DocumentBlockParam)[] {
  switch (part.type) {
    case 'text':
      return textBlocks([part], where);
    case 'image_url':
      return [{ type: 'image', source: imageSource(part, where), ...cacheFrom(part) }];
    case 'file':
      return [{ type: 'document', source: documentSource(part, where), ...cacheFrom(part) }];
    default:
      throw unsupported(where, `content part '${part.type}' has no Anthropic equivalent`);
  }
}

const DATA_URL = /^data:([^;,]+)(?:;[^;,]*)*;base64,(.*)$/s;
const IMAGE_TYPES: ReadonlySet<string> = new Set<ImageMediaType>(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function imageSource(part: ContentPart, where: string): ImageBlockParam['source'] {
  const imageUrl = field(part, 'image_url');
  const url = typeof imageUrl === 'string' ? imageUrl : isObject(imageUrl) && typeof imageUrl.url === 'string' ? imageUrl.url : '';
  if (/^https?:\/\//i.test(url)) return { type: 'url', url };
  const match = DATA_URL.exec(url);
  const mediaType = match?.[1]?.toLowerCase().replace('image/jpg', 'image/jpeg');
  if (!match || !mediaType || !IMAGE_TYPES.has(mediaType)) {
    throw unsupported(where, 'images must be http(s) URLs or base64 data: URLs of jpeg, png, gif or webp');
  }
  return { type: 'base64', media_type: mediaType as ImageMediaType, data: match[2] ?? '' };
}

function documentSource(part: ContentPart, where: string): DocumentBlockParam['source'] {
  const file = field(part, 'file');
  if (!isObject(file)) throw unsupported(where, "a 'file' part needs a 'file' object");
  const match = typeof file.file_data === 'string' ? DATA_URL.exec(file.file_data) : null;
  if (!match || match[1]?.toLowerCase() !== 'application/pdf') {
    throw unsupported(where, 'only inline PDF files (base64 data: URLs) can be sent to Anthropic');
  }
  return { type: 'base64', media_type: 'application/pdf', data: match[2] ?? '' };
}

function assistantBlocks(message: ChatMessage, i: number, options: MessageOptions): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = options.keepThinking ? readThinkingBlocks(message[THINKING_BLOCKS_FIELD]) : [];
  blocks.push(...textBlocks(message.content, `messages[${i}]`));
  for (const call of message.tool_calls ?? []) {
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call.function.arguments) });
  }
  return blocks;
}

/** Tool-call arguments as the JSON object Anthropic wants; arguments that are not a JSON object become `{}`. */
export function parseArguments(text: string): JsonValue {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? (parsed as JsonValue) : {};
  } catch {
    return {};
  }
}

function toolResult(message: ChatMessage, i: number): ToolResultBlockParam {
  const block: ToolResultBlockParam = { type: 'tool_result', tool_use_id: message.tool_call_id ?? '' };
  const content = message.content;
  if (typeof content === 'string') {
    if (content !== '') block.content = content;
  } else if (Array.isArray(content)) {
    const parts = content.flatMap((part, j) => partBlocks(part, `messages[${i}].content[${j}]`));
    const allowed = parts.filter((p): p is TextBlockParam | ImageBlockParam => p.type !== 'document');
    if (allowed.length !== parts.length) throw unsupported(`messages[${i}].content`, 'files are not supported in tool results');
    if (allowed.length > 0) block.content = allowed;
  }
  return block;
}

/** A prompt-caching marker the client put on a part (LiteLLM-style `cache_control`), kept. */
function cacheFrom(part: ContentPart): { cache_control?: CacheControl } {
  const cache = field(part, 'cache_control');
  if (!isObject(cache) || cache.type !== 'ephemeral') return {};
  return { cache_control: cache.ttl === '1h' || cache.ttl === '5m' ? { type: 'ephemeral', ttl: cache.ttl } : { type: 'ephemeral' } };
}

function field(part: ContentPart, name: string): unknown {
  return (part as Record<string, unknown>)[name];
}

export function unsupported(param: string, why: string): UpstreamFailure {
  return new UpstreamFailure({ kind: 'unsupported_parameter', code: 'unsupported_parameter', param, message: `${param}: ${why}` });
}
