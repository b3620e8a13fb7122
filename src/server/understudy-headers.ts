import { attemptCount, fallbackReasons, skippedTargets, type AttemptRecord } from '../engine/attempt.js';
import type { Served } from '../engine/engine.js';

/** The response headers that tell the caller who answered and why. */
export function servedHeaders(requestId: string, served: Served): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': requestId,
    'x-understudy-route': served.route,
    'x-understudy-served-by': served.servedBy,
    'x-understudy-attempts': String(attemptCount(served.attempts)),
  };
  addReasons(headers, served.attempts);
  if (served.degraded) headers['x-understudy-degraded'] = 'true';
  const dropped = served.attempts.at(-1)?.droppedParams;
  if (dropped && dropped.length > 0) headers['x-understudy-dropped-params'] = dropped.join(',');
  return headers;
}

/** Headers for an answer no target served. */
export function failureHeaders(requestId: string, route: string, attempts: readonly AttemptRecord[]): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': requestId,
    'x-understudy-route': route,
    'x-understudy-attempts': String(attemptCount(attempts)),
    'x-should-retry': 'false',
  };
  addReasons(headers, attempts);
  return headers;
}

function addReasons(headers: Record<string, string>, attempts: readonly AttemptRecord[]): void {
  const reasons = fallbackReasons(attempts);
  if (reasons.length > 0) headers['x-understudy-fallback-reason'] = reasons.join(',');
  const skipped = skippedTargets(attempts);
  if (skipped.length > 0) headers['x-understudy-skipped'] = skipped.join('; ');
  // Hedged requests: the attempts that lost the race (their upstream calls were aborted).
  const lost = attempts.filter((a) => a.outcome === 'lost').map((a) => a.target);
  if (lost.length > 0) headers['x-understudy-hedge-lost'] = lost.join(',');
}

/** The attempts as listed inside an error body (no secrets: messages are scrubbed at the adapter). */
export function attemptSummary(attempts: readonly AttemptRecord[]): Record<string, unknown>[] {
  return attempts.map((a) => ({
    target: a.target,
    outcome: a.outcome,
    kind: a.failure?.kind ?? null,
    status: a.failure?.status ?? null,
    ...(a.skipReason ? { skipped: a.skipReason } : {}),
  }));
}
