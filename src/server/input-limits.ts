import type { ChatRequest } from '../canonical/chat.js';
import type { ClientError } from '../engine/all-failed.js';
import { badRequest } from './respond.js';

const OPEN_BRACKET = 0x5b; // [
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACKET = 0x5d; // ]
const CLOSE_BRACE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * How deeply a JSON text nests arrays and objects, read from its bytes without parsing (UTF-8
 * multi-byte sequences never contain these ASCII bytes). Stops counting once `limit` is passed,
 * so a hostile body costs one partial scan. Invalid JSON is left for the parser to report.
 */
export function jsonDepthExceeds(body: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/**
 * Bounds on a request body before it is parsed: JSON nested past `server.max_json_depth` would
 * exhaust the stack of every recursive walk after it (serialising the upstream request among them).
 */
export function bodyLimitError(body: Uint8Array, maxJsonDepth: number): ClientError | undefined {
  if (!jsonDepthExceeds(body, maxJsonDepth)) return undefined;
  return badRequest(`The request body nests arrays and objects more than ${maxJsonDepth} levels deep (server.max_json_depth).`, 'json_too_deep');
}

/** Bounds on the parsed request: at most `server.max_messages` messages (counted after translation to the canonical request). */
export function requestLimitError(request: ChatRequest, maxMessages: number): ClientError | undefined {
  const count = request.messages.length;
  if (count <= maxMessages) return undefined;
  return badRequest(`The request has ${count} messages; this gateway accepts at most ${maxMessages} (server.max_messages).`, 'too_many_messages', 'messages');
}
