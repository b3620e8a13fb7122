import type { FailureDetails, FailureKind } from '../../canonical/failure.js';
import { scrub } from '../scrub.js';
import { decodeApiError } from './decode.js';
import type { ApiError, ErrorType } from './wire.js';

/** 400s that are not the client's fault: the account ran out of money or hit its spend cap. */
const SPEND_LIMIT = /credit balance|spend(?:ing)? limit|usage limits?|billing|purchase credits/i;
/** 400s that mean the prompt (plus `max_tokens`) does not fit the model. */
const TOO_LONG = /prompt is too long|exceed(?:s)? context limit|context window|too many tokens/i;
/** 400s caused by a parameter the model does not take: our translation's problem, not the client's. */
const UNSUPPORTED = /not supported|does not support|unsupported|extra inputs are not permitted|maximum allowed number of output tokens/i;

/** The FailureKind an API `error.type` stands for, whatever the HTTP status (in-stream errors have none). */
function kindForType(type: ErrorType): FailureKind {
  switch (type) {
    case 'invalid_request_error':
      return 'invalid_request';
    case 'authentication_error':
    case 'permission_error':
      return 'upstream_auth';
    case 'not_found_error':
      return 'model_not_found';
    case 'request_too_large':
      return 'context_window';
    case 'rate_limit_error':
      return 'rate_limited';
    case 'billing_error':
      return 'quota_exhausted';
    case 'conflict_error':
    case 'timeout_error':
    case 'api_error':
      return 'server_error';
    case 'overloaded_error':
      return 'overloaded';
    default:
      return assertNever(type);
  }
}

const ERROR_TYPES: ReadonlySet<string> = new Set<ErrorType>([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'billing_error',
  'conflict_error',
  'timeout_error',
  'api_error',
  'overloaded_error',
]);

const isErrorType = (type: string): type is ErrorType => ERROR_TYPES.has(type);

function kindForStatus(status: number): FailureKind {
  if (status === 401 || status === 403) return 'upstream_auth';
  if (status === 402) return 'quota_exhausted';
  if (status === 404) return 'model_not_found';
  if (status === 413) return 'context_window';
  if (status === 429) return 'rate_limited';
  if (status === 503 || status === 529) return 'overloaded';
  if (status === 408 || status === 409 || status >= 500) return 'server_error';
  return 'invalid_request';
}

function refine(kind: FailureKind, message: string, retryAfterMs: number | undefined): FailureKind {
  if (kind === 'invalid_request') {
    if (TOO_LONG.test(message)) return 'context_window';
    if (SPEND_LIMIT.test(message)) return 'quota_exhausted';
    if (UNSUPPORTED.test(message)) return 'unsupported_parameter';
  }
  // A tier's spend cap answers 429 without Retry-After: waiting will not help.
  if (kind === 'rate_limited' && retryAfterMs === undefined && SPEND_LIMIT.test(message)) return 'quota_exhausted';
  return kind;
}

/**
 * Classifies an HTTP error response (status ≥ 400) by the body's `error.type` when it is one we
 * know, else by status; then by the few messages that change the meaning of a 400/429.
 */
export function classifyHttpError(
  status: number,
  bodyText: string,
  retryAfterMs: number | undefined,
  secrets: readonly string[],
): FailureDetails {
  let error: ApiError | undefined;
  try {
    error = decodeApiError(JSON.parse(bodyText));
  } catch {
    error = undefined;
  }
  const rawMessage = error?.message || bodyText.slice(0, 500) || `HTTP ${status}`;
  let base = error && isErrorType(error.type) && status < 500 ? kindForType(error.type) : kindForStatus(status);
  if (error?.type === 'overloaded_error') base = 'overloaded';
  const kind = refine(base, rawMessage, retryAfterMs);
  const details: FailureDetails = { kind, status, message: scrub(rawMessage, secrets) };
  if (error?.type) {
    details.code = error.type;
    details.type = error.type;
  }
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  return details;
}

/**
 * An `event: error` inside a 200 stream (e.g. `overloaded_error`, "would normally be a 529").
 * Once output has streamed, the answer is cut whatever the cause: the caller passes `outputSeen`.
 */
export function classifyStreamError(error: ApiError, outputSeen: boolean, secrets: readonly string[]): FailureDetails {
  const message = scrub(error.message || 'error event in stream', secrets);
  const code = error.type || 'error';
  if (outputSeen) return { kind: 'stream_cut', code, type: error.type, message: `stream failed after output: ${message}` };
  const kind = refine(isErrorType(error.type) ? kindForType(error.type) : 'server_error', error.message, undefined);
  return { kind, code, type: error.type, message };
}

function assertNever(value: never): never {
  throw new Error(`unknown error type: ${String(value)}`);
}
