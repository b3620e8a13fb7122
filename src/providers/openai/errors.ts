import type { FailureDetails, FailureKind } from '../../canonical/failure.js';
import { scrub } from '../scrub.js';

interface OpenAIErrorBody {
  message?: unknown;
  type?: unknown;
  param?: unknown;
  code?: unknown;
}

const CONTENT_POLICY_CODES = new Set(['content_filter', 'content_policy_violation', 'ResponsibleAIPolicyViolation']);
const UNSUPPORTED_CODES = new Set(['unsupported_parameter', 'unsupported_value']);

/** Extracts `{error:{...}}` (or a bare error object) from a parsed body. */
export function readErrorBody(parsed: unknown): OpenAIErrorBody | undefined {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const error = (parsed as { error?: unknown }).error;
  if (typeof error === 'object' && error !== null) return error as OpenAIErrorBody;
  if (typeof error === 'string') return { message: error };
  return undefined;
}

function kindForStatus(status: number, code: string | undefined, message: string): FailureKind {
  if (code && CONTENT_POLICY_CODES.has(code)) return 'content_policy';
  if (code === 'context_length_exceeded' || /maximum context length|context window|too many tokens/i.test(message)) {
    return status >= 500 ? 'server_error' : 'context_window';
  }
  if (code && UNSUPPORTED_CODES.has(code)) return 'unsupported_parameter';
  if (status === 429) return code === 'insufficient_quota' ? 'quota_exhausted' : 'rate_limited';
  if (status === 401 || status === 403) return 'upstream_auth';
  if (status === 404) return 'model_not_found';
  if (status === 402) return 'quota_exhausted';
  if (status === 408 || status === 409) return 'server_error';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'server_error';
  return 'invalid_request';
}

/** Classifies an upstream HTTP error response (status ≥ 400) into a FailureKind. */
export function classifyHttpError(
  status: number,
  bodyText: string,
  retryAfterMs: number | undefined,
  secrets: readonly string[],
): FailureDetails {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    parsed = undefined;
  }
  const err = readErrorBody(parsed);
  const code = typeof err?.code === 'string' ? err.code : typeof err?.code === 'number' ? String(err.code) : undefined;
  const rawMessage = typeof err?.message === 'string' ? err.message : bodyText.slice(0, 500) || `HTTP ${status}`;
  const message = scrub(rawMessage, secrets);
  const details: FailureDetails = { kind: kindForStatus(status, code, rawMessage), status, message };
  if (code !== undefined) details.code = code;
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  if (typeof err?.param === 'string' || err?.param === null) details.param = err.param;
  if (typeof err?.type === 'string' || err?.type === null) details.type = err.type;
  return details;
}

/** An error event inside a 200 stream (`data: {"error":{...}}`). */
export function classifyStreamError(parsed: unknown, secrets: readonly string[]): FailureDetails {
  const err = readErrorBody(parsed) ?? {};
  const code = typeof err.code === 'string' ? err.code : undefined;
  const message = scrub(typeof err.message === 'string' ? err.message : 'error event in stream', secrets);
  const type = typeof err.type === 'string' ? err.type : undefined;
  let kind: FailureKind = 'server_error';
  if (code === 'rate_limit_exceeded' || type === 'rate_limit_error') kind = 'rate_limited';
  else if (type === 'overloaded_error' || code === 'overloaded') kind = 'overloaded';
  else if (code && CONTENT_POLICY_CODES.has(code)) kind = 'content_policy';
  const details: FailureDetails = { kind, message };
  if (code !== undefined) details.code = code;
  return details;
}
