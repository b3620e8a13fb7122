import type { ClientError } from '../../../engine/all-failed.js';
import type { AttemptRecord } from '../../../engine/attempt.js';
import { attemptSummary } from '../../understudy-headers.js';

/** Anthropic's error types, by the status they go with. */
export function anthropicErrorType(status: number): string {
  if (status === 400 || status === 413 || status === 405 || status === 422) return status === 413 ? 'request_too_large' : 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'billing_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 504) return 'timeout_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  return 'api_error';
}

/** `{type:'error', error:{type, message}}`, plus the attempts when the ladder ran. */
export function anthropicErrorBody(error: ClientError, attempts?: readonly AttemptRecord[]): string {
  const body: Record<string, unknown> = { type: 'error', error: { type: anthropicErrorType(error.status), message: error.message } };
  if (attempts && attempts.length > 0) body.attempts = attemptSummary(attempts);
  return JSON.stringify(body);
}
