import pg from 'pg';
import type { RequestRecord } from '../engine/attempt.js';
import { ATTEMPT_COLUMNS, attemptRow, recordFromColumn, REQUEST_COLUMNS, requestRow, schemaStatements, summaryFromRow, summarySql, type SqlDialect, type SqlValue } from './request-log-sql.js';
import type { RequestLogStore, RequestQuery, RequestSummary, RetentionPolicy } from './request-log-store.js';

const POSTGRES: SqlDialect = { param: (n) => `$${n}`, integer: 'BIGINT', boolean: 'BOOLEAN', json: 'JSONB' };

/** Rows per INSERT statement (PostgreSQL allows 65535 parameters per statement). */
const ROWS_PER_STATEMENT = 1_000;

/**
 * The request log in PostgreSQL (`store: { backend: postgres, url }`): the same tables as SQLite,
 * written in one transaction per batch with multi-row inserts. The network round trips are
 * asynchronous, so nothing here holds the event loop.
 */
export class PostgresRequestLogStore implements RequestLogStore {
  private readonly pool: pg.Pool;
  private ready: Promise<void> | undefined;

  constructor(url: string, options: { schema?: string; maxConnections?: number } = {}) {
    const schema = options.schema;
    this.pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 4, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
    // A broken idle connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  /** Creates the tables on first use (and the schema, when one was given). */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      for (const statement of schemaStatements(POSTGRES)) await this.pool.query(statement);
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  async write(records: readonly RequestRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.init();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const requests = records.map((r) => requestRow(r, (b) => b));
      const update = REQUEST_COLUMNS.filter((c) => c !== 'request_id').map((c) => `${c} = EXCLUDED.${c}`).join(', ');
      for (const rows of chunks(requests)) {
        const { text, params } = insertSql('requests', REQUEST_COLUMNS, rows);
        await client.query(`${text} ON CONFLICT (request_id) DO UPDATE SET ${update}`, params);
      }
      await client.query('DELETE FROM attempts WHERE request_id = ANY($1)', [records.map((r) => r.requestId)]);
      const attempts = records.flatMap((r) => r.attempts.map((a) => attemptRow(r.requestId, a)));
      for (const rows of chunks(attempts)) {
        const { text, params } = insertSql('attempts', ATTEMPT_COLUMNS, rows);
        await client.query(text, params);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async query(query: RequestQuery): Promise<RequestSummary[]> {
    await this.init();
    const { text, params } = summarySql(query, POSTGRES);
    const result = await this.pool.query(text, params);
    return (result.rows as Record<string, unknown>[]).map(summaryFromRow);
  }

  async get(requestId: string): Promise<RequestRecord | undefined> {
    await this.init();
    const result = await this.pool.query('SELECT record FROM requests WHERE request_id = $1', [requestId]);
    const row = result.rows[0] as { record: unknown } | undefined;
    return row ? recordFromColumn(row.record) : undefined;
  }

  async prune(policy: RetentionPolicy): Promise<number> {
    await this.init();
    let removed = 0;
    if (policy.olderThan !== undefined) removed += await this.removeBefore(policy.olderThan);
    if (policy.maxRows !== undefined) {
      const edge = await this.pool.query('SELECT started_at FROM requests ORDER BY started_at DESC LIMIT 1 OFFSET $1', [policy.maxRows]);
      const row = edge.rows[0] as { started_at: string | number } | undefined;
      if (row) removed += await this.removeBefore(Number(row.started_at) + 1);
    }
    return removed;
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private async removeBefore(startedAt: number): Promise<number> {
    await this.pool.query('DELETE FROM attempts WHERE request_id IN (SELECT request_id FROM requests WHERE started_at < $1)', [startedAt]);
    const result = await this.pool.query('DELETE FROM requests WHERE started_at < $1', [startedAt]);
    return result.rowCount ?? 0;
  }
}

function chunks(rows: SqlValue[][]): SqlValue[][][] {
  const out: SqlValue[][][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) out.push(rows.slice(i, i + ROWS_PER_STATEMENT));
  return out;
}

function insertSql(table: string, columns: readonly string[], rows: SqlValue[][]): { text: string; params: SqlValue[] } {
  const params: SqlValue[] = [];
  const values = rows.map((row) => `(${row.map((value) => `$${params.push(value)}`).join(', ')})`);
  return { text: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`, params };
}
