import type { FinishReason } from '../../../canonical/chat.js';

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

/** Canonical finish_reason → Anthropic stop_reason. */
export function stopReasonFor(finish: FinishReason | null | undefined): StopReason {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case 'stop':
    case null:
    case undefined:
      return 'end_turn';
    default:
      return assertNever(finish);
  }
}

function assertNever(value: never): never {
  throw new Error(`unknown finish_reason ${String(value)}`);
}
