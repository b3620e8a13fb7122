import type { StoreConfig } from '../config/store-config.js';
import type { Clock } from '../time/clock.js';
import { PostgresRequestLogStore } from './postgres-store.js';
import { RequestLog } from './request-log.js';
import type { RequestLogStore } from './request-log-store.js';
import { SqliteRequestLogStore } from './sqlite-store.js';

/** The request log `store:` asks for: its store and the writer in front of it. */
export function openRequestLog(config: Exclude<StoreConfig, { backend: 'none' }>, clock: Clock, onError: (error: unknown, lost: number) => void): RequestLog {
  const store: RequestLogStore =
    config.backend === 'sqlite' ? new SqliteRequestLogStore(config.path) : new PostgresRequestLogStore(config.url.reveal(), config.schema ? { schema: config.schema } : {});
  const log = new RequestLog(
    store,
    clock,
    { maxQueue: config.queue.max, batchSize: config.queue.batch, flushIntervalMs: config.queue.flushMs, retention: config.retention, pruneIntervalMs: 10 * 60_000 },
    onError,
  );
  log.start();
  return log;
}
