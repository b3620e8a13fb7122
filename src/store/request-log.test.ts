import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../engine/attempt.js';
import { FakeClock } from '../engine/fake-clock.js';
import { RequestLog, type RequestLogOptions } from './request-log.js';
import type { RequestLogStore, RetentionPolicy } from './request-log-store.js';
import { record } from './request-log-store.contract.js';

/** A store that keeps batches in memory and can be made slow or failing (the writer is under test). */
class BatchStore implements RequestLogStore {
  batches: RequestRecord[][] = [];
  prunes: RetentionPolicy[] = [];
  fail = false;
  gate: Promise<void> | undefined;
  closed = false;
  async write(records: readonly RequestRecord[]): Promise<void> {
    await this.gate;
    if (this.fail) throw new Error('disk full');
    this.batches.push([...records]);
  }
  async query() {
    return [];
  }
  async get() {
    return undefined;
  }
  async prune(policy: RetentionPolicy): Promise<number> {
    this.prunes.push(policy);
    return 0;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const options: RequestLogOptions = { maxQueue: 5, batchSize: 3, flushIntervalMs: 100, retention: { maxAgeMs: 1_000, maxRows: 50 }, pruneIntervalMs: 10_000 };

describe('RequestLog', () => {
  it('writes a full batch at once, and a partial one after the flush interval', async () => {
    const clock = new FakeClock();
    const store = new BatchStore();
    const log = new RequestLog(store, clock, options);
    for (const id of ['a', 'b', 'c', 'd']) log.append(record(id, 1));
    await clock.advance(0);
    expect(store.batches.map((b) => b.map((r) => r.requestId))).toEqual([['a', 'b', 'c']]);
    await clock.advance(99);
    expect(store.batches).toHaveLength(1);
    await clock.advance(1);
    expect(store.batches.map((b) => b.map((r) => r.requestId))).toEqual([['a', 'b', 'c'], ['d']]);
    expect(log.stats()).toEqual({ written: 4, dropped: 0, failed: 0, queued: 0 });
  });

  it('drops and counts what does not fit while the store is slow — appending never waits', async () => {
    const clock = new FakeClock();
    const store = new BatchStore();
    let release!: () => void;
    store.gate = new Promise((resolve) => (release = resolve));
    const log = new RequestLog(store, clock, options);
    for (let i = 0; i < 3; i++) log.append(record(`first${i}`, 1));
    await clock.advance(0); // the first batch is being written, slowly
    for (let i = 0; i < 8; i++) log.append(record(`more${i}`, 1));
    expect(log.stats()).toMatchObject({ queued: 5, dropped: 3 });
    release();
    await log.flush();
    expect(log.stats()).toEqual({ written: 8, dropped: 3, failed: 0, queued: 0 });
  });

  it('a failing store loses the batch (counted, reported once per burst), never the request', async () => {
    const clock = new FakeClock();
    const store = new BatchStore();
    store.fail = true;
    const errors: number[] = [];
    const log = new RequestLog(store, clock, options, (_e, lost) => errors.push(lost));
    for (let i = 0; i < 5; i++) log.append(record(`r${i}`, 1));
    await log.flush();
    expect(log.stats()).toMatchObject({ written: 0, failed: 5 });
    expect(errors).toEqual([3]);
    store.fail = false;
    log.append(record('ok', 1));
    await log.flush();
    expect(log.stats()).toMatchObject({ written: 1, failed: 5 });
  });

  it('prunes at start and on schedule, and close writes what is queued before closing the store', async () => {
    const clock = new FakeClock(10_000);
    const store = new BatchStore();
    const log = new RequestLog(store, clock, options);
    log.start();
    expect(store.prunes).toEqual([{ olderThan: 9_000, maxRows: 50 }]);
    await clock.advance(10_000);
    expect(store.prunes).toHaveLength(2);
    log.append(record('last', 1));
    await log.close();
    expect(store.batches.flat().map((r) => r.requestId)).toEqual(['last']);
    expect(store.closed).toBe(true);
    log.append(record('late', 1));
    expect(log.stats().dropped).toBe(1);
  });
});
