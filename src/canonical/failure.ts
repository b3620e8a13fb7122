/**
 * FailureKind: the closed vocabulary every failed attempt is classified into, once, at the
 * adapter boundary (or by the engine's watchdogs). Policies over it are exhaustive switches.
 */
export const FAILURE_KINDS = [
  'rate_limited',
  'quota_exhausted',
  'overloaded',
  'server_error',
  'connection',
  'timeout_headers',
  'timeout_first_token',
  'stream_stalled',
  'stream_cut',
  'malformed_response',
  'empty_output',
  'contract_violation',
  'context_window',
  'content_policy',
  'upstream_auth',
  'model_not_found',
  'unsupported_parameter',
  'invalid_request',
  'budget_exceeded',
  'deadline_exceeded',
  'client_cancelled',
] as const;

export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface FailureDetails {
  kind: FailureKind;
  /** Upstream HTTP status, when there was one. */
  status?: number;
  /** Provider error code (e.g. `insufficient_quota`) or transport error code (e.g. `ECONNRESET`). */
  code?: string;
  /** Human-readable, already scrubbed of anything key-shaped. */
  message: string;
  /** From `retry-after-ms` / `retry-after` (or a provider's own retry hint). */
  retryAfterMs?: number;
  /** Provider's error param (OpenAI `error.param`), for passing a client error back faithfully. */
  param?: string | null;
  /** Provider's error type (OpenAI `error.type`). */
  type?: string | null;
}

/** An attempt failed. Thrown by adapters and watchdogs; caught and recorded by the engine. */
export class UpstreamFailure extends Error {
  readonly kind: FailureKind;
  readonly details: FailureDetails;

  constructor(details: FailureDetails) {
    super(details.message);
    this.name = 'UpstreamFailure';
    this.kind = details.kind;
    this.details = details;
  }
}

export function isUpstreamFailure(value: unknown): value is UpstreamFailure {
  return value instanceof UpstreamFailure;
}
