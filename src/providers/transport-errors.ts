import type { FailureDetails } from '../canonical/failure.js';
import { scrub } from './scrub.js';

/**
 * Classifies a transport error from undici (by `code`, never by message). Before the response
 * began, it is a `connection` failure (refused, reset, DNS, TLS, connect timeout: nothing was
 * processed). Once the response has begun (`bodyStarted`), a dropped connection is a cut stream:
 * the target accepted the request and failed mid-answer, so it is not retried as if nothing had
 * been processed.
 */
export function classifyTransportError(error: unknown, bodyStarted: boolean, secrets: readonly string[]): FailureDetails {
  const code = errorCode(error);
  const message = scrub(error instanceof Error ? error.message : String(error), secrets);
  if (bodyStarted) return { kind: 'stream_cut', code, message: `response cut mid-body: ${message}` };
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return { kind: 'timeout_headers', code, message };
  if (code === 'UND_ERR_BODY_TIMEOUT') return { kind: 'stream_stalled', code, message };
  return { kind: 'connection', code, message };
}

/** The first string `code` on the error or its causes (undici wraps socket errors). */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
