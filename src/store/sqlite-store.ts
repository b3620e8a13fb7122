import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { RequestRecord } from '../engine/attempt.js';
import { ATTEMPT_COLUMNS, attemptRow, recordFromColumn, REQUEST_COLUMNS, requestRow, schemaStatements, summaryFromRow, summarySql, type SqlDialect } from './request-log-sql.js';
import type { RequestLogStore, RequestQuery, RequestSummary, RetentionPolicy } from './request-log-store.js';

const SQLITE: SqlDialect = { param: () => '?', integer: 'INTEGER', boolean: 'INTEGER', json: 'TEXT' };

/**
 * The request log in one SQLite file (created on first start), the default. better-sqlite3 is
 * synchronous: each `write` is one transaction over a bounded batch (WAL, `synchronous=NORMAL`),
 * which `RequestLog` runs between requests — a few hundred records take about a millisecond, so a
 * write never holds a request for longer than that.
 */
export class SqliteRequestLogStore implements RequestLogStore {
  private readonly db: Database.Database;
  private readonly insertRequest: Database.Statement;
  private readonly deleteAttempts: Database.Statement;
  private readonly insertAttempt: Database.Statement;
  private readonly writeBatch: (records: readonly RequestRecord[]) => void;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 2000');
    for (const statement of schemaStatements(SQLITE)) this.db.exec(statement);
    this.insertRequest = this.db.prepare(`INSERT OR REPLACE INTO requests (${REQUEST_COLUMNS.join(', ')}) VALUES (${REQUEST_COLUMNS.map(() => '?').join(', ')})`);
    this.deleteAttempts = this.db.prepare('DELETE FROM attempts WHERE request_id = ?');
    this.insertAttempt = this.db.prepare(`INSERT INTO attempts (${ATTEMPT_COLUMNS.join(', ')}) VALUES (${ATTEMPT_COLUMNS.map(() => '?').join(', ')})`);
    this.writeBatch = this.db.transaction((records: readonly RequestRecord[]) => {
      for (const record of records) {
        this.insertRequest.run(requestRow(record, (b) => (b ? 1 : 0)));
        this.deleteAttempts.run(record.requestId);
        for (const attempt of record.attempts) this.insertAttempt.run(attemptRow(record.requestId, attempt));
      }
    });
  }

  async write(records: readonly RequestRecord[]): Promise<void> {
    if (records.length > 0) this.writeBatch(records);
  }

  async query(query: RequestQuery): Promise<RequestSummary[]> {
    const { text, params } = summarySql(query, SQLITE);
    return (this.db.prepare(text).all(params) as Record<string, unknown>[]).map(summaryFromRow);
  }

  async get(requestId: string): Promise<RequestRecord | undefined> {
    const row = this.db.prepare('SELECT record FROM requests WHERE request_id = ?').get(requestId) as { record: string } | undefined;
    return row ? recordFromColumn(row.record) : undefined;
  }

  async prune(policy: RetentionPolicy): Promise<number> {
    return this.db.transaction(() => {
      let removed = 0;
      if (policy.olderThan !== undefined) removed += this.removeBefore(policy.olderThan);
      if (policy.maxRows !== undefined) {
        const edge = this.db.prepare('SELECT started_at FROM requests ORDER BY started_at DESC LIMIT 1 OFFSET ?').get(policy.maxRows) as { started_at: number } | undefined;
        if (edge) removed += this.removeBefore(edge.started_at + 1);
      }
      return removed;
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private removeBefore(startedAt: number): number {
    this.db.prepare('DELETE FROM attempts WHERE request_id IN (SELECT request_id FROM requests WHERE started_at < ?)').run(startedAt);
    return this.db.prepare('DELETE FROM requests WHERE started_at < ?').run(startedAt).changes;
  }
}
