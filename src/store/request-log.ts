import type { RequestRecord } from '../engine/attempt.js';
import type { Clock } from '../time/clock.js';
import type { RequestLogStore, RetentionPolicy } from './request-log-store.js';

export interface RequestLogOptions {
  /** Records waiting to be written at most; beyond it new records are dropped and counted. */
  maxQueue: number;
  /** Records per write (one transaction). */
  batchSize: number;
  /** How long a record may wait for a batch to fill. */
  flushIntervalMs: number;
  /** Retention, applied at start and every `pruneIntervalMs`: age in ms and/or a row count. */
  retention: { maxAgeMs?: number; maxRows?: number };
  pruneIntervalMs: number;
}

export const DEFAULT_REQUEST_LOG_OPTIONS: RequestLogOptions = {
  maxQueue: 10_000,
  batchSize: 200,
  flushIntervalMs: 250,
  retention: { maxAgeMs: 30 * 86_400_000 },
  pruneIntervalMs: 10 * 60_000,
};

/** What the request log has done, for `/metrics` and the admin API. */
export interface RequestLogStats {
  written: number;
  /** Dropped because the queue was full (the store was slower than the traffic). */
  dropped: number;
  /** Lost because a write failed (the store was unreachable or refused them). */
  failed: number;
  queued: number;
}

/**
 * The writer between requests and the store. `append` is O(1) and never blocks, throws or waits:
 * records queue (bounded — under pressure the newest are dropped and counted) and are written in
 * batches, one transaction each, on a timer or when a batch is full. A failed write loses its
 * batch (counted, reported once per burst through `onError`), never the request. `close` writes
 * what is queued.
 */
export class RequestLog {
  private queue: RequestRecord[] = [];
  private writing: Promise<void> | undefined;
  private cancelTimer: (() => void) | undefined;
  private cancelPrune: (() => void) | undefined;
  private closed = false;
  private readonly counts = { written: 0, dropped: 0, failed: 0 };
  private failing = false;

  constructor(
    readonly store: RequestLogStore,
    private readonly clock: Clock,
    private readonly options: RequestLogOptions = DEFAULT_REQUEST_LOG_OPTIONS,
    private readonly onError: (error: unknown, lost: number) => void = () => undefined,
  ) {}

  /** Starts the retention schedule (the first prune runs at once). */
  start(): void {
    const { maxAgeMs, maxRows } = this.options.retention;
    if (maxAgeMs === undefined && maxRows === undefined) return;
    const prune = (): void => {
      this.cancelPrune = undefined;
      if (this.closed) return;
      const policy: RetentionPolicy = {};
      if (maxAgeMs !== undefined) policy.olderThan = this.clock.now() - maxAgeMs;
      if (maxRows !== undefined) policy.maxRows = maxRows;
      void this.store.prune(policy).catch((error: unknown) => this.onError(error, 0));
      this.cancelPrune = this.clock.setTimer(prune, this.options.pruneIntervalMs);
    };
    prune();
  }

  append(record: RequestRecord): void {
    if (this.closed || this.queue.length >= this.options.maxQueue) {
      this.counts.dropped++;
      return;
    }
    this.queue.push(record);
    if (this.queue.length >= this.options.batchSize) this.flushSoon(0);
    else this.flushSoon(this.options.flushIntervalMs);
  }

  stats(): RequestLogStats {
    return { ...this.counts, queued: this.queue.length };
  }

  /** Writes everything queued so far (the tests' and shutdown's way to wait for the log). */
  async flush(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    while (this.queue.length > 0 || this.writing) {
      if (this.writing) await this.writing;
      else await this.writeNext();
    }
  }

  /** Stops taking records, writes what is queued, closes the store. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelPrune?.();
    await this.flush();
    await this.store.close();
  }

  private flushSoon(delayMs: number): void {
    if (this.writing || (this.cancelTimer && delayMs > 0)) return;
    this.cancelTimer?.();
    this.cancelTimer = this.clock.setTimer(() => {
      this.cancelTimer = undefined;
      void this.writeNext();
    }, delayMs);
  }

  private writeNext(): Promise<void> {
    if (this.writing) return this.writing;
    const batch = this.queue.splice(0, this.options.batchSize);
    if (batch.length === 0) return Promise.resolve();
    this.writing = this.store
      .write(batch)
      .then(
        () => {
          this.counts.written += batch.length;
          this.failing = false;
        },
        (error: unknown) => {
          this.counts.failed += batch.length;
          if (!this.failing) this.onError(error, batch.length);
          this.failing = true;
        },
      )
      .finally(() => {
        this.writing = undefined;
        if (this.queue.length > 0 && !this.closed) this.flushSoon(this.queue.length >= this.options.batchSize ? 0 : this.options.flushIntervalMs);
      });
    return this.writing;
  }
}
