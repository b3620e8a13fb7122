import type { AttemptRecord, RequestRecord } from '../engine/attempt.js';
import { queryLimit, summaryOf, type RequestQuery, type RequestSummary } from './request-log-store.js';

/**
 * The SQL both request-log stores share: one `requests` row per request (indexed columns plus
 * the whole record as JSON, which `get` returns exactly) and one `attempts` row per attempt (for
 * per-target questions). Dialects differ only in types, placeholders and upserts.
 */
export interface SqlDialect {
  /** The n-th (1-based) placeholder. */
  param(n: number): string;
  integer: string;
  boolean: string;
  json: string;
}

export function schemaStatements(d: SqlDialect): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS requests (
      request_id TEXT PRIMARY KEY,
      route TEXT NOT NULL,
      key_id TEXT,
      stream ${d.boolean} NOT NULL,
      started_at ${d.integer} NOT NULL,
      ended_at ${d.integer} NOT NULL,
      status INTEGER NOT NULL,
      served_by TEXT,
      degraded ${d.boolean} NOT NULL,
      stream_error TEXT,
      attempts INTEGER NOT NULL,
      fallback_reasons TEXT NOT NULL,
      record ${d.json} NOT NULL
    )`,
    'CREATE INDEX IF NOT EXISTS requests_started ON requests (started_at)',
    'CREATE INDEX IF NOT EXISTS requests_route_started ON requests (route, started_at)',
    'CREATE INDEX IF NOT EXISTS requests_key_started ON requests (key_id, started_at)',
    `CREATE TABLE IF NOT EXISTS attempts (
      request_id TEXT NOT NULL,
      ordinal INTEGER NOT NULL,
      target TEXT NOT NULL,
      rung INTEGER NOT NULL,
      reason TEXT NOT NULL,
      outcome TEXT NOT NULL,
      started_at ${d.integer} NOT NULL,
      ended_at ${d.integer} NOT NULL,
      first_token_at ${d.integer},
      failure_kind TEXT,
      failure_status INTEGER,
      decision_rule TEXT,
      PRIMARY KEY (request_id, ordinal)
    )`,
    'CREATE INDEX IF NOT EXISTS attempts_target_started ON attempts (target, started_at)',
  ];
}

export const REQUEST_COLUMNS = [
  'request_id',
  'route',
  'key_id',
  'stream',
  'started_at',
  'ended_at',
  'status',
  'served_by',
  'degraded',
  'stream_error',
  'attempts',
  'fallback_reasons',
  'record',
] as const;

export const ATTEMPT_COLUMNS = [
  'request_id',
  'ordinal',
  'target',
  'rung',
  'reason',
  'outcome',
  'started_at',
  'ended_at',
  'first_token_at',
  'failure_kind',
  'failure_status',
  'decision_rule',
] as const;

export type SqlValue = string | number | boolean | null;

/** A request's row, in `REQUEST_COLUMNS` order (`asBoolean` maps booleans for stores without them). */
export function requestRow(record: RequestRecord, asBoolean: (b: boolean) => SqlValue): SqlValue[] {
  const s = summaryOf(record);
  return [s.requestId, s.route, s.keyId, asBoolean(s.stream), s.startedAt, s.endedAt, s.status, s.servedBy, asBoolean(s.degraded), s.streamError, s.attempts, s.fallbackReasons, JSON.stringify(record)];
}

/** An attempt's row, in `ATTEMPT_COLUMNS` order. */
export function attemptRow(requestId: string, a: AttemptRecord): SqlValue[] {
  return [requestId, a.ordinal, a.target, a.rung, a.reason, a.outcome, a.startedAt, a.endedAt, a.firstTokenAt ?? null, a.failure?.kind ?? null, a.failure?.status ?? null, a.decision?.rule ?? null];
}

/** The summary query for `query`: SQL text and its parameters. */
export function summarySql(query: RequestQuery, d: SqlDialect): { text: string; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (clause: (p: string) => string, value: SqlValue): void => {
    params.push(value);
    where.push(clause(d.param(params.length)));
  };
  if (query.route !== undefined) add((p) => `route = ${p}`, query.route);
  if (query.keyId !== undefined) add((p) => `key_id = ${p}`, query.keyId);
  if (typeof query.status === 'number') add((p) => `status = ${p}`, query.status);
  if (query.status === 'error') where.push('(status >= 400 OR stream_error IS NOT NULL)');
  if (query.fellBack === true) where.push("fallback_reasons <> ''");
  if (query.fellBack === false) where.push("fallback_reasons = ''");
  if (query.since !== undefined) add((p) => `started_at >= ${p}`, query.since);
  if (query.before !== undefined) add((p) => `started_at < ${p}`, query.before);
  if (query.target !== undefined) add((p) => `EXISTS (SELECT 1 FROM attempts a WHERE a.request_id = requests.request_id AND a.target = ${p})`, query.target);
  params.push(queryLimit(query));
  const columns = REQUEST_COLUMNS.filter((c) => c !== 'record').join(', ');
  const text = `SELECT ${columns} FROM requests${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, request_id DESC LIMIT ${d.param(params.length)}`;
  return { text, params };
}

/** A summary from a row as a driver returns it (numbers may come back as strings or bigints). */
export function summaryFromRow(row: Record<string, unknown>): RequestSummary {
  return {
    requestId: String(row['request_id']),
    route: String(row['route']),
    keyId: row['key_id'] === null || row['key_id'] === undefined ? null : String(row['key_id']),
    stream: truthy(row['stream']),
    startedAt: Number(row['started_at']),
    endedAt: Number(row['ended_at']),
    status: Number(row['status']),
    servedBy: row['served_by'] === null || row['served_by'] === undefined ? null : String(row['served_by']),
    degraded: truthy(row['degraded']),
    streamError: row['stream_error'] === null || row['stream_error'] === undefined ? null : String(row['stream_error']),
    attempts: Number(row['attempts']),
    fallbackReasons: String(row['fallback_reasons']),
  };
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}

/** The whole record from its stored JSON (a JSONB column comes back parsed). */
export function recordFromColumn(value: unknown): RequestRecord {
  return (typeof value === 'string' ? JSON.parse(value) : value) as RequestRecord;
}
