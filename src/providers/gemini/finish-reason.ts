import type { FinishReason } from '../../canonical/chat.js';
import { GEMINI_FINISH_REASONS, type GeminiFinishReason } from './wire.js';

/**
 * A Gemini `finishReason` read as the canonical finish reason — or as a failed answer.
 *
 * - `STOP` → `stop`, or `tool_calls` when the candidate has functionCall parts: Gemini ends a
 *   tool-call turn with STOP, there is no tool-specific reason.
 * - `MAX_TOKENS` → `length`.
 * - Safety, recitation, blocklist, prohibited content, SPII and every `IMAGE_*` verdict →
 *   `content_filter` (a safety decision, which the engine does not route around by default).
 * - `MALFORMED_FUNCTION_CALL` → a failure (`malformed_response`): the model meant to call a tool
 *   and produced something unusable, so the tool call the client needs is lost. Returning the
 *   (usually empty) text as `stop` would be a silent truncation; another target can do better.
 * - `UNEXPECTED_TOOL_CALL`, `TOO_MANY_TOOL_CALLS`, `LANGUAGE`, `OTHER`, `NO_IMAGE` and
 *   `FINISH_REASON_UNSPECIFIED` → `stop` (or `tool_calls` when calls are present): the answer is
 *   what it is; an empty one is caught by the engine as `empty_output`.
 * - A reason Google adds later (not in the enum we know) → `stop`, like `OTHER`.
 */
export type FinishVerdict =
  | { ok: true; reason: FinishReason }
  | { ok: false; code: GeminiFinishReason; message: string };

export function isKnownFinishReason(raw: string): raw is GeminiFinishReason {
  return (GEMINI_FINISH_REASONS as readonly string[]).includes(raw);
}

export function finishVerdict(raw: string, hasFunctionCalls: boolean): FinishVerdict {
  const done: FinishVerdict = { ok: true, reason: hasFunctionCalls ? 'tool_calls' : 'stop' };
  if (!isKnownFinishReason(raw)) return done;
  switch (raw) {
    case 'STOP':
    case 'FINISH_REASON_UNSPECIFIED':
    case 'OTHER':
    case 'LANGUAGE':
    case 'NO_IMAGE':
    case 'UNEXPECTED_TOOL_CALL':
    case 'TOO_MANY_TOOL_CALLS':
      return done;
    case 'MAX_TOKENS':
      return { ok: true, reason: 'length' };
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'IMAGE_PROHIBITED_CONTENT':
    case 'IMAGE_OTHER':
    case 'IMAGE_RECITATION':
      return { ok: true, reason: 'content_filter' };
    case 'MALFORMED_FUNCTION_CALL':
      return { ok: false, code: raw, message: 'the model produced a malformed function call (finishReason MALFORMED_FUNCTION_CALL)' };
    default:
      return assertNever(raw);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled Gemini finish reason: ${String(value)}`);
}
