import type { FinishReason } from '../../canonical/chat.js';
import type { StopReason } from './wire.js';

/**
 * Anthropic `stop_reason` → OpenAI `finish_reason`. A `refusal` is the provider's safety verdict:
 * it becomes `content_filter`, which the engine passes through instead of routing around it.
 */
export function toFinishReason(stop: StopReason): FinishReason {
  switch (stop) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return assertNever(stop);
  }
}

/** OpenAI `finish_reason` → Anthropic `stop_reason` (for answers rendered in Anthropic's shape). */
export function toStopReason(finish: FinishReason): StopReason {
  switch (finish) {
    case 'stop':
      return 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return assertNever(finish);
  }
}

function assertNever(value: never): never {
  throw new Error(`unknown reason: ${String(value)}`);
}
