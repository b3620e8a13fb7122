import type { FailureDetails } from '../canonical/failure.js';
import type { AttemptRecord } from './attempt.js';

/** The error a client receives, independent of the inbound API's error shape. */
export interface ClientError {
  status: number;
  message: string;
  /** OpenAI-style error type, e.g. `invalid_request_error`, `server_error`. */
  type: string | null;
  code: string | null;
  param: string | null;
  retryAfterMs?: number;
}

/** One line per attempt: target, kind, status/code, decision. Never secrets (messages are scrubbed upstream). */
export function describeAttempts(attempts: readonly AttemptRecord[]): string {
  return attempts
    .map((a) => {
      if (a.outcome === 'skipped') return `${a.target}: skipped (${a.skipReason ?? 'unavailable'})`;
      const f = a.failure;
      if (!f) return `${a.target}: ok`;
      const detail = [f.status !== undefined ? `HTTP ${f.status}` : undefined, f.code].filter(Boolean).join(' ');
      return `${a.target}: ${f.kind}${detail ? ` (${detail})` : ''}`;
    })
    .join('; ');
}

/**
 * The one defined answer when no rung served: 429 with the shortest known Retry-After when every
 * failure was a rate limit; 400 when every target said the prompt exceeds its context window,
 * or refused a parameter of the request (no retry can help: the request must change); else 503.
 */
export function allFailedError(route: string, attempts: readonly AttemptRecord[]): ClientError {
  const kinds = attempts.map((a) => a.failure?.kind).filter((k) => k !== undefined);
  const summary = describeAttempts(attempts);
  if (kinds.length > 0 && kinds.every((k) => k === 'rate_limited')) {
    const waits = attempts.map((a) => a.failure?.retryAfterMs).filter((w): w is number => typeof w === 'number');
    const error: ClientError = {
      status: 429,
      message: `Every target for '${route}' is rate limited. Attempts: ${summary}`,
      type: 'rate_limit_error',
      code: 'all_targets_rate_limited',
      param: null,
    };
    if (waits.length > 0) error.retryAfterMs = Math.min(...waits);
    return error;
  }
  if (kinds.length > 0 && kinds.every((k) => k === 'context_window')) {
    return {
      status: 400,
      message: `The request does not fit the context window of any target for '${route}'. Attempts: ${summary}`,
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
    };
  }
  if (kinds.length > 0 && kinds.every((k) => k === 'unsupported_parameter')) {
    return {
      status: 400,
      message: `No target for '${route}' accepts a parameter of this request. Attempts: ${summary}`,
      type: 'invalid_request_error',
      code: 'unsupported_parameter',
      param: null,
    };
  }
  if (attempts.length > 0 && attempts.every((a) => a.outcome === 'skipped' && !a.failure)) {
    return {
      status: 400,
      message: `No target for '${route}' can serve this request: ${summary}`,
      type: 'invalid_request_error',
      code: 'no_capable_target',
      param: null,
    };
  }
  if (attempts.length === 0) {
    return { status: 503, message: `No target is available for '${route}'.`, type: 'server_error', code: 'no_targets', param: null };
  }
  return {
    status: 503,
    message: `All targets failed for '${route}'. Attempts: ${summary}`,
    type: 'server_error',
    code: 'all_targets_failed',
    param: null,
  };
}

/** A failure the engine stops on (client error, content policy): the provider's own status and reason. */
export function stoppedError(failure: FailureDetails): ClientError {
  const status = failure.status !== undefined && failure.status >= 400 && failure.status < 500 ? failure.status : 400;
  return {
    status: failure.kind === 'client_cancelled' ? 499 : status,
    message: failure.message,
    type: failure.type ?? 'invalid_request_error',
    code: failure.code ?? (failure.kind === 'content_policy' ? 'content_filter' : null),
    param: failure.param ?? null,
  };
}
