import type { FailureDetails, FailureKind } from '../../canonical/failure.js';
import { scrub } from '../scrub.js';
import type { GeminiErrorDetail, GeminiErrorEnvelope } from './wire.js';

type GeminiError = GeminiErrorEnvelope['error'];

const TYPE_PREFIX = 'type.googleapis.com/google.rpc.';

/** `google.rpc.Code` names, in the order of their numbers. */
const RPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;
type RpcCode = (typeof RPC_CODES)[number];

/** ErrorInfo reasons that mean the key/project cannot use the API (besides every `API_KEY_*`). */
const AUTH_REASONS = new Set([
  'SERVICE_DISABLED',
  'CONSUMER_INVALID',
  'CONSUMER_SUSPENDED',
  'USER_PROJECT_DENIED',
  'ACCESS_TOKEN_EXPIRED',
  'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
]);

const CONTEXT_WINDOW =
  /exceeds the maximum number of tokens|input token count[^.]*exceeds|token count[^.]*exceeds|prompt is too long|context (length|window)/i;
/** Our translation (or the model) does not support something the request uses: another target may. */
const UNSUPPORTED =
  /unknown name "[^"]*"|cannot find field|is not (supported|enabled) for (this model|models\/)|not supported (by|for) this model|is only supported (when|for|by)|thought_signature/i;
/**
 * Spend/billing exhaustion, not a rate limit. Careful: Google's ordinary per-minute 429 says
 * "please check your plan and billing details", so the word "billing" alone proves nothing.
 */
const BILLING =
  /spend(ing)? (cap|limit)|prepay(ment)?|credits? (have been |has been |are |is )?(depleted|exhausted)|billing (is )?(not enabled|disabled)|insufficient (funds|balance|credits?)/i;
/** A safety verdict sent as a 400 instead of the usual 200 with `promptFeedback.blockReason`. */
const SAFETY = /blocked (due to|for) safety|violates? .*(usage |use )?polic(y|ies)/i;
const LOCATION = /location is not supported|not available in your (country|region)/i;

/** Extracts the AIP-193 `error` object from a parsed body (also the `[{error}]` array form). */
export function readGeminiError(parsed: unknown): GeminiError | undefined {
  const value = Array.isArray(parsed) && parsed.length === 1 ? parsed[0] : parsed;
  if (typeof value !== 'object' || value === null) return undefined;
  const error = (value as { error?: unknown }).error;
  if (typeof error === 'object' && error !== null && !Array.isArray(error)) return error as GeminiError;
  return undefined;
}

/** `google.protobuf.Duration` JSON ("34.4s", "1.5s", "0s") → milliseconds. */
export function parseRetryDelay(delay: unknown): number | undefined {
  if (typeof delay !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(delay);
  return match?.[1] === undefined ? undefined : Math.round(Number(match[1]) * 1000);
}

function detail<T extends string>(details: GeminiErrorDetail[] | undefined, type: T): Record<string, unknown> | undefined {
  if (!Array.isArray(details)) return undefined;
  const found = details.find((d) => typeof d === 'object' && d !== null && d['@type'] === TYPE_PREFIX + type);
  return found as Record<string, unknown> | undefined;
}

function rpcCodeFor(status: unknown, httpStatus: number | undefined): RpcCode {
  if (typeof status === 'string' && (RPC_CODES as readonly string[]).includes(status)) return status as RpcCode;
  switch (httpStatus) {
    case 400:
    case 413:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'ABORTED';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 499:
      return 'CANCELLED';
    case 501:
      return 'UNIMPLEMENTED';
    case 503:
      return 'UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      if (httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500) return 'INVALID_ARGUMENT';
      return 'INTERNAL';
  }
}

function kindFor(code: RpcCode, reason: string | undefined, message: string): FailureKind {
  if (reason !== undefined && (reason.startsWith('API_KEY_') || AUTH_REASONS.has(reason))) return 'upstream_auth';
  if (reason === 'BILLING_DISABLED') return 'quota_exhausted';
  switch (code) {
    case 'INVALID_ARGUMENT':
    case 'OUT_OF_RANGE':
      if (/api key (not valid|expired|invalid)/i.test(message)) return 'upstream_auth';
      if (CONTEXT_WINDOW.test(message)) return 'context_window';
      if (SAFETY.test(message)) return 'content_policy';
      if (UNSUPPORTED.test(message)) return 'unsupported_parameter';
      return 'invalid_request';
    case 'ALREADY_EXISTS':
      return 'invalid_request';
    case 'FAILED_PRECONDITION':
      // "Gemini API free tier is not available in your country. Please enable billing…": an
      // account state, not transient. A region the API refuses is a permanent config problem.
      return LOCATION.test(message) && !/billing/i.test(message) ? 'upstream_auth' : 'quota_exhausted';
    case 'PERMISSION_DENIED':
    case 'UNAUTHENTICATED':
      return 'upstream_auth';
    case 'NOT_FOUND':
      return 'model_not_found';
    case 'RESOURCE_EXHAUSTED':
      return BILLING.test(message) ? 'quota_exhausted' : 'rate_limited';
    case 'UNIMPLEMENTED':
      return 'unsupported_parameter';
    case 'UNAVAILABLE':
      return 'overloaded';
    case 'OK':
    case 'CANCELLED':
    case 'UNKNOWN':
    case 'DEADLINE_EXCEEDED':
    case 'ABORTED':
    case 'INTERNAL':
    case 'DATA_LOSS':
      return 'server_error';
    default:
      return assertNever(code);
  }
}

/**
 * Classifies a Google error (HTTP status + AIP-193 envelope) into a FailureKind. `retryAfterMs`
 * from the RetryInfo detail wins over a `Retry-After` header. A daily or free-tier QuotaFailure
 * stays `rate_limited` (Google gives it a RetryInfo like any other quota); only wording that names
 * spend, prepayment or credits makes it `quota_exhausted`.
 */
export function classifyGeminiError(
  httpStatus: number | undefined,
  error: GeminiError | undefined,
  fallbackText: string,
  headerRetryAfterMs: number | undefined,
  secrets: readonly string[],
): FailureDetails {
  const rawMessage =
    typeof error?.message === 'string' && error.message.length > 0
      ? error.message
      : fallbackText.slice(0, 500) || `HTTP ${httpStatus ?? 'error'}`;
  const status = httpStatus ?? (typeof error?.code === 'number' ? error.code : undefined);
  const rpc = rpcCodeFor(error?.status, status);
  const info = detail(error?.details, 'ErrorInfo');
  const reason = typeof info?.reason === 'string' ? info.reason : undefined;
  const details: FailureDetails = {
    kind: kindFor(rpc, reason, rawMessage),
    message: scrub(rawMessage.slice(0, 1000), secrets),
    code: reason ?? (typeof error?.status === 'string' ? error.status : rpc),
  };
  if (status !== undefined) details.status = status;
  const retryAfterMs = parseRetryDelay(detail(error?.details, 'RetryInfo')?.retryDelay) ?? headerRetryAfterMs;
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  return details;
}

/** An HTTP error response (status ≥ 400) with its body text. */
export function classifyHttpError(
  status: number,
  bodyText: string,
  headerRetryAfterMs: number | undefined,
  secrets: readonly string[],
): FailureDetails {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    parsed = undefined;
  }
  return classifyGeminiError(status, readGeminiError(parsed), bodyText, headerRetryAfterMs, secrets);
}

function assertNever(value: never): never {
  throw new Error(`unhandled google.rpc.Code: ${String(value)}`);
}
