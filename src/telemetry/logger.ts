import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import type { RequestRecord } from '../engine/attempt.js';

export type { Logger };

/** The gateway's structured logger. Credentials are redacted by path as a second line of defence. */
export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'understudy' },
    redact: {
      paths: ['api_key', 'apiKey', 'authorization', '*.authorization', '*.api_key', '*.apiKey', 'headers.authorization', 'headers["x-api-key"]'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The one log line per request: every attempt with target, outcome, kind, decision and latency. */
export function requestLogFields(record: RequestRecord): Record<string, unknown> {
  return {
    request_id: record.requestId,
    route: record.route,
    // The virtual key's id, never the key.
    ...(record.keyId ? { key_id: record.keyId } : {}),
    status: record.status,
    stream: record.stream,
    served_by: record.servedBy ?? null,
    degraded: record.degraded,
    stream_error: record.streamError ?? null,
    ...(record.rejected ? { rejected: record.rejected } : {}),
    duration_ms: record.endedAt - record.startedAt,
    attempts: record.attempts.map((a) => ({
      n: a.ordinal,
      target: a.target,
      rung: a.rung,
      reason: a.reason,
      outcome: a.outcome,
      kind: a.failure?.kind ?? null,
      status: a.failure?.status ?? null,
      code: a.failure?.code ?? null,
      // Which output-contract check failed and where (never the answer's text).
      ...(a.failure?.kind === 'contract_violation' ? { violation: a.failure.message } : {}),
      decision: a.decision ? `${a.decision.action}:${a.decision.rule}` : null,
      ...(a.breaker ? { breaker: a.breaker } : {}),
      latency_ms: a.endedAt - a.startedAt,
      ttft_ms: a.firstTokenAt !== undefined ? a.firstTokenAt - a.startedAt : null,
      ...(a.skipReason ? { skip_reason: a.skipReason } : {}),
    })),
  };
}

export function logRequest(logger: Logger, record: RequestRecord): void {
  for (const a of record.attempts) {
    const change = a.breakerChange;
    if (!change) continue;
    if (change.to === 'open') {
      const fields = { request_id: record.requestId, target: a.target, reason: change.reason, kind: change.kind, cooldown_ms: change.cooldownMs, reopens_at: new Date(change.reopensAt).toISOString() };
      if (change.misconfigured) logger.error(fields, 'circuit opened: the target is misconfigured (check its key, model name and account)');
      else logger.warn(fields, 'circuit opened');
    } else {
      logger.info({ request_id: record.requestId, target: a.target }, 'circuit closed');
    }
  }
  const fields = requestLogFields(record);
  const fellBack = record.attempts.length > 1 || record.degraded;
  if (record.rejected) logger.info(fields, 'request rejected');
  else if (record.status >= 500 || record.streamError) logger.warn(fields, 'request failed');
  else if (fellBack) logger.info(fields, 'request served after fallback');
  else logger.info(fields, 'request served');
}
