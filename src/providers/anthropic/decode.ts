import type {
  ApiError,
  ContentBlock,
  ContentBlockDelta,
  JsonValue,
  Message,
  MessageDeltaUsage,
  StopDetails,
  StopReason,
  StreamEvent,
  Usage,
} from './wire.js';

/**
 * Reads untrusted JSON from the wire into the typed shapes of `wire.ts`. Lenient where the API
 * is known to vary (missing optional fields, extra fields, new block/delta/event types), strict
 * where a translation would otherwise be a guess (`undefined` = not the shape we need).
 */

type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

const STOP_REASONS: ReadonlySet<string> = new Set<StopReason>([
  'end_turn',
  'max_tokens',
  'stop_sequence',
  'tool_use',
  'pause_turn',
  'refusal',
  'model_context_window_exceeded',
]);

/** A stop reason. One this code does not know (the API adds some) ended the turn: read as `end_turn`. */
export function decodeStopReason(value: unknown): StopReason | null {
  if (typeof value !== 'string') return null;
  return STOP_REASONS.has(value) ? (value as StopReason) : 'end_turn';
}

/** The blocks we translate; `undefined` for any other block type (server tools, citations, compaction…). */
export function decodeContentBlock(value: unknown): ContentBlock | undefined {
  if (!isObject(value)) return undefined;
  switch (value.type) {
    case 'text':
      return { type: 'text', text: str(value.text) };
    case 'tool_use':
      return { type: 'tool_use', id: str(value.id), name: str(value.name), input: (value.input ?? {}) as JsonValue };
    case 'thinking':
      return { type: 'thinking', thinking: str(value.thinking), signature: str(value.signature) };
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: str(value.data) };
    default:
      return undefined;
  }
}

export function decodeDelta(value: unknown): ContentBlockDelta | undefined {
  if (!isObject(value)) return undefined;
  switch (value.type) {
    case 'text_delta':
      return { type: 'text_delta', text: str(value.text) };
    case 'input_json_delta':
      return { type: 'input_json_delta', partial_json: str(value.partial_json) };
    case 'thinking_delta':
      return { type: 'thinking_delta', thinking: str(value.thinking) };
    case 'signature_delta':
      return { type: 'signature_delta', signature: str(value.signature) };
    default:
      return undefined;
  }
}

export function decodeUsage(value: unknown): MessageDeltaUsage {
  if (!isObject(value)) return {};
  const out: MessageDeltaUsage = {};
  const input = num(value.input_tokens);
  const output = num(value.output_tokens);
  const cacheCreation = num(value.cache_creation_input_tokens);
  const cacheRead = num(value.cache_read_input_tokens);
  if (input !== undefined) out.input_tokens = input;
  if (output !== undefined) out.output_tokens = output;
  if (cacheCreation !== undefined) out.cache_creation_input_tokens = cacheCreation;
  if (cacheRead !== undefined) out.cache_read_input_tokens = cacheRead;
  const details = value.output_tokens_details;
  if (isObject(details) && num(details.thinking_tokens) !== undefined) {
    out.output_tokens_details = { thinking_tokens: num(details.thinking_tokens) as number };
  }
  return out;
}

function decodeStopDetails(value: unknown): StopDetails | null {
  if (!isObject(value)) return null;
  return {
    type: str(value.type),
    category: typeof value.category === 'string' ? value.category : null,
    explanation: typeof value.explanation === 'string' ? value.explanation : null,
  };
}

/** A complete `Message` (non-streaming body, or the shell in `message_start`). */
export function decodeMessage(value: unknown): Message | undefined {
  if (!isObject(value) || !Array.isArray(value.content)) return undefined;
  if (value.type !== undefined && value.type !== 'message') return undefined;
  const content: ContentBlock[] = [];
  for (const raw of value.content) {
    const block = decodeContentBlock(raw);
    if (block) content.push(block);
  }
  const usage = decodeUsage(value.usage);
  const message: Message = {
    id: str(value.id),
    type: 'message',
    role: 'assistant',
    model: str(value.model),
    content,
    stop_reason: decodeStopReason(value.stop_reason),
    stop_sequence: typeof value.stop_sequence === 'string' ? value.stop_sequence : null,
    usage: { ...usage, input_tokens: usage.input_tokens ?? 0, output_tokens: usage.output_tokens ?? 0 } as Usage,
  };
  const details = decodeStopDetails(value.stop_details);
  if (details) message.stop_details = details;
  return message;
}

export function decodeApiError(value: unknown): ApiError | undefined {
  if (!isObject(value)) return undefined;
  const error = value.type === 'error' && isObject(value.error) ? value.error : value;
  if (typeof error.type !== 'string' && typeof error.message !== 'string') return undefined;
  return { type: str(error.type), message: str(error.message) };
}

/** An event type the decoder does not know: the API may add some, and they are ignored. */
export interface UnknownEvent {
  type: 'unknown';
  name: string;
}

/** One parsed SSE `data:` payload; `undefined` when it is not a well-formed event of a known type. */
export function decodeStreamEvent(value: unknown): StreamEvent | UnknownEvent | undefined {
  if (!isObject(value) || typeof value.type !== 'string') return undefined;
  const index = num(value.index);
  switch (value.type) {
    case 'message_start': {
      const message = decodeMessage(value.message);
      return message ? { type: 'message_start', message } : undefined;
    }
    case 'content_block_start':
      if (index === undefined || !isObject(value.content_block)) return undefined;
      return { type: 'content_block_start', index, content_block: decodeContentBlock(value.content_block) };
    case 'content_block_delta':
      if (index === undefined || !isObject(value.delta)) return undefined;
      return { type: 'content_block_delta', index, delta: decodeDelta(value.delta) };
    case 'content_block_stop':
      return index === undefined ? undefined : { type: 'content_block_stop', index };
    case 'message_delta': {
      if (!isObject(value.delta)) return undefined;
      const delta: Extract<StreamEvent, { type: 'message_delta' }>['delta'] = { stop_reason: decodeStopReason(value.delta.stop_reason) };
      const details = decodeStopDetails(value.delta.stop_details);
      if (details) delta.stop_details = details;
      return { type: 'message_delta', delta, usage: decodeUsage(value.usage) };
    }
    case 'message_stop':
      return { type: 'message_stop' };
    case 'ping':
      return { type: 'ping' };
    case 'error': {
      const error = decodeApiError(value.error);
      return { type: 'error', error: error ?? { type: 'api_error', message: 'error event in stream' } };
    }
    default:
      return { type: 'unknown', name: value.type };
  }
}
