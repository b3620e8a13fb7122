import { attachNativeMessage } from '../../canonical/native.js';
import type { ChatResponse, FinishReason, ResponseMessage, ToolCall } from '../../canonical/chat.js';
import { UpstreamFailure } from '../../canonical/failure.js';
import { decodeMessage } from './decode.js';
import { toFinishReason } from './finish-reason.js';
import { THINKING_BLOCKS_FIELD, type SignedThinking } from './thinking-blocks.js';
import { toUsage } from './usage.js';
import type { Message } from './wire.js';

export interface ResponseContext {
  /** `created` of the canonical response (Anthropic has no timestamp), in Unix seconds. */
  created: number;
  /** The answer tool of emulated structured output (see tools.ts). */
  jsonTool?: string | undefined;
  /**
   * Same-format pass-through (the client speaks Anthropic too): the upstream's own events and
   * message travel beside the canonical values. `stream`: each chunk carries its raw events;
   * `complete`: the stream ends with the rebuilt native message as a response event.
   */
  passThrough?: 'stream' | 'complete' | undefined;
}

/**
 * Anthropic `Message` → canonical `ChatResponse`. Text blocks are joined; `tool_use` blocks become
 * `tool_calls` (same id, `arguments` = the input serialised) — except the answer tool of emulated
 * JSON output, whose input becomes the text. Thinking becomes `reasoning_content`, and the signed
 * blocks themselves are kept in `message.thinking_blocks` so a later turn can send them back.
 * A `refusal` stop is `finish_reason: 'content_filter'`, with the stated reason as `refusal`.
 */
export function toChatResponse(message: Message, context: ResponseContext): ChatResponse {
  let text = '';
  let reasoning = '';
  const thinking: SignedThinking[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    switch (block.type) {
      case 'text':
        text += block.text;
        break;
      case 'thinking':
        reasoning += block.thinking;
        thinking.push(block);
        break;
      case 'redacted_thinking':
        thinking.push(block);
        break;
      case 'tool_use':
        if (block.name === context.jsonTool) text += JSON.stringify(block.input);
        else toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input) } });
        break;
    }
  }
  const out: ResponseMessage = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, refusal: null };
  if (message.stop_reason === 'refusal') out.refusal = message.stop_details?.explanation ?? null;
  if (reasoning !== '') out.reasoning_content = reasoning;
  if (thinking.length > 0) out[THINKING_BLOCKS_FIELD] = thinking;
  if (toolCalls.length > 0) out.tool_calls = toolCalls;
  return {
    id: message.id,
    object: 'chat.completion',
    created: context.created,
    model: message.model,
    choices: [{ index: 0, message: out, logprobs: null, finish_reason: finishReason(message.stop_reason, toolCalls.length > 0, context) }],
    usage: toUsage(message.usage),
  };
}

/** The finish reason; a `tool_use` stop that only called the answer tool is a plain `stop`. */
export function finishReason(stop: Message['stop_reason'], clientToolCalled: boolean, context: ResponseContext): FinishReason {
  if (stop === null) return 'stop';
  if (stop === 'tool_use' && context.jsonTool !== undefined && !clientToolCalled) return 'stop';
  return toFinishReason(stop);
}

/** Parses a non-streaming body; anything that is not a Message is malformed. */
export function parseAnthropicResponse(text: string, context: ResponseContext): ChatResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UpstreamFailure({ kind: 'malformed_response', code: 'invalid_json', message: `upstream body is not JSON: ${text.slice(0, 120)}` });
  }
  const message = decodeMessage(parsed);
  if (!message) {
    throw new UpstreamFailure({ kind: 'malformed_response', code: 'not_a_message', message: 'upstream body is not an Anthropic message' });
  }
  const response = toChatResponse(message, context);
  if (context.passThrough) attachNativeMessage(response, parsed);
  return response;
}
