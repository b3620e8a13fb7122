import type { RequestRecord } from '../engine/attempt.js';
import { fallbackReasons } from '../engine/attempt.js';

/**
 * Where request records are kept after the fact: every request with every attempt. SQLite by
 * default, PostgreSQL when configured; both pass `describeRequestLogStoreContract`. Writers never
 * call a store directly from a request — `RequestLog` (request-log.ts) batches records off the
 * request path and drops (and counts) what it cannot keep.
 */
export interface RequestLogStore {
  /** Writes one batch in one transaction (a record already stored is replaced). */
  write(records: readonly RequestRecord[]): Promise<void>;
  /** Summaries of the newest requests matching `query`, newest first. */
  query(query: RequestQuery): Promise<RequestSummary[]>;
  /** The whole record of one request, attempts included. */
  get(requestId: string): Promise<RequestRecord | undefined>;
  /** Deletes requests started before `olderThan` (epoch ms), then the oldest beyond `maxRows`; returns how many went. */
  prune(policy: RetentionPolicy): Promise<number>;
  close(): Promise<void>;
}

export interface RequestQuery {
  route?: string;
  keyId?: string;
  /** An exact HTTP status, or `error` for any status ≥ 400 or a stream that ended in an error. */
  status?: number | 'error';
  /** Only requests that moved along the ladder (a failed or skipped attempt before the one that served). */
  fellBack?: boolean;
  /** A target that took part (any attempt, served or not). */
  target?: string;
  /** Started at or after (epoch ms). */
  since?: number;
  /** Started before (epoch ms): the cursor for the next page is the last summary's `startedAt`. */
  before?: number;
  /** At most this many (default 100, capped at 1000). */
  limit?: number;
}

export interface RetentionPolicy {
  olderThan?: number;
  maxRows?: number;
}

/** One request at a glance (the list view); `get` has the rest. */
export interface RequestSummary {
  requestId: string;
  route: string;
  keyId: string | null;
  stream: boolean;
  startedAt: number;
  endedAt: number;
  status: number;
  servedBy: string | null;
  degraded: boolean;
  streamError: string | null;
  /** Upstream calls made (skipped candidates excluded). */
  attempts: number;
  /** FailureKinds that moved the request along the ladder, comma-separated ('' when none). */
  fallbackReasons: string;
}

export const MAX_QUERY_LIMIT = 1000;

export function queryLimit(query: RequestQuery): number {
  return Math.max(1, Math.min(query.limit ?? 100, MAX_QUERY_LIMIT));
}

/** The indexed columns of one record, as both stores write them. */
export function summaryOf(record: RequestRecord): RequestSummary {
  return {
    requestId: record.requestId,
    route: record.route,
    keyId: record.keyId ?? null,
    stream: record.stream,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    status: record.status,
    servedBy: record.servedBy ?? null,
    degraded: record.degraded,
    streamError: record.streamError ?? null,
    attempts: record.attempts.filter((a) => a.outcome !== 'skipped').length,
    fallbackReasons: fallbackReasons(record.attempts).join(','),
  };
}
