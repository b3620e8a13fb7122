/**
 * The cases every RequestLogStore passes: SQLite (sqlite-store.test.ts) and PostgreSQL against
 * the real server (postgres-store.test.ts), with the same file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FailureKind } from '../canonical/failure.js';
import type { AttemptRecord, RequestRecord } from '../engine/attempt.js';
import type { RequestLogStore } from './request-log-store.js';

const T0 = 1_800_000_000_000;

function attempt(ordinal: number, target: string, outcome: AttemptRecord['outcome'], kind?: FailureKind): AttemptRecord {
  const a: AttemptRecord = { ordinal, target, rung: ordinal - 1, reason: ordinal === 1 ? 'primary' : 'fallback', outcome, startedAt: T0 + ordinal, endedAt: T0 + ordinal + 5 };
  if (kind) {
    a.failure = { kind, status: 503, message: 'upstream said no' };
    a.decision = { action: 'next_target', rule: 'transient_exhausted' };
  }
  return a;
}

export function record(id: string, at: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return {
    requestId: id,
    route: 'chat',
    stream: false,
    startedAt: at,
    endedAt: at + 20,
    status: 200,
    servedBy: 'a/one',
    degraded: false,
    attempts: [attempt(1, 'a/one', 'ok')],
    ...extra,
  };
}

export function describeRequestLogStoreContract(name: string, makeStore: () => Promise<RequestLogStore>): void {
  describe(`RequestLogStore contract: ${name}`, () => {
    let stores: RequestLogStore[] = [];
    async function store(): Promise<RequestLogStore> {
      const s = await makeStore();
      stores.push(s);
      return s;
    }
    afterEach(async () => {
      await Promise.all(stores.map((s) => s.close()));
      stores = [];
    });

    it('returns a written record exactly, attempts and all', async () => {
      const s = await store();
      const fellBack = record('r1', T0, {
        keyId: 'key_1',
        stream: true,
        servedBy: 'b/two',
        attempts: [attempt(1, 'a/one', 'failed', 'overloaded'), attempt(2, 'b/two', 'ok')],
        contributors: ['a/one', 'b/two'],
        splices: [{ from: 'a/one', to: 'b/two', atChar: 12, mode: 'prefill', overlapChars: 0 }],
        extraCost: 0.25,
      });
      await s.write([fellBack]);
      expect(await s.get('r1')).toEqual(fellBack);
      expect(await s.get('nope')).toBeUndefined();
    });

    it('lists summaries newest first, filtered and paged', async () => {
      const s = await store();
      await s.write([
        record('r1', T0),
        record('r2', T0 + 10, { route: 'other', keyId: 'key_2' }),
        record('r3', T0 + 20, { status: 503, servedBy: undefined, attempts: [attempt(1, 'a/one', 'failed', 'server_error')] }),
        record('r4', T0 + 30, { servedBy: 'b/two', attempts: [attempt(1, 'a/one', 'failed', 'overloaded'), attempt(2, 'b/two', 'ok')] }),
        record('r5', T0 + 40, { stream: true, streamError: 'stream_cut' }),
      ]);
      const ids = async (q: Parameters<RequestLogStore['query']>[0]) => (await s.query(q)).map((r) => r.requestId);
      expect(await ids({})).toEqual(['r5', 'r4', 'r3', 'r2', 'r1']);
      expect(await ids({ route: 'other' })).toEqual(['r2']);
      expect(await ids({ keyId: 'key_2' })).toEqual(['r2']);
      expect(await ids({ status: 503 })).toEqual(['r3']);
      expect(await ids({ status: 'error' })).toEqual(['r5', 'r3']);
      expect(await ids({ fellBack: true })).toEqual(['r4', 'r3']);
      expect(await ids({ target: 'b/two' })).toEqual(['r4']);
      expect(await ids({ since: T0 + 20 })).toEqual(['r5', 'r4', 'r3']);
      expect(await ids({ limit: 2 })).toEqual(['r5', 'r4']);
      expect(await ids({ limit: 2, before: T0 + 30 })).toEqual(['r3', 'r2']);
      const [r4] = await s.query({ target: 'b/two' });
      expect(r4).toEqual({
        requestId: 'r4',
        route: 'chat',
        keyId: null,
        stream: false,
        startedAt: T0 + 30,
        endedAt: T0 + 50,
        status: 200,
        servedBy: 'b/two',
        degraded: false,
        streamError: null,
        attempts: 2,
        fallbackReasons: 'overloaded',
      });
    });

    it('replaces a record written twice (and its attempts)', async () => {
      const s = await store();
      await s.write([record('r1', T0, { attempts: [attempt(1, 'a/one', 'failed', 'overloaded'), attempt(2, 'b/two', 'ok')] })]);
      await s.write([record('r1', T0, { status: 499 })]);
      expect((await s.get('r1'))?.status).toBe(499);
      expect(await s.query({ target: 'b/two' })).toEqual([]);
    });

    it('prunes by age and by row count', async () => {
      const s = await store();
      await s.write(Array.from({ length: 10 }, (_, i) => record(`r${i}`, T0 + i * 1_000)));
      expect(await s.prune({ olderThan: T0 + 3_000 })).toBe(3);
      expect((await s.query({})).map((r) => r.requestId).at(-1)).toBe('r3');
      expect(await s.prune({ maxRows: 4 })).toBe(3);
      expect((await s.query({})).map((r) => r.requestId)).toEqual(['r9', 'r8', 'r7', 'r6']);
      expect(await s.query({ target: 'a/one', before: T0 + 6_000 })).toEqual([]);
    });

    it('writes a large batch in one go', async () => {
      const s = await store();
      await s.write(Array.from({ length: 1_500 }, (_, i) => record(`big${i}`, T0 + i)));
      expect(await s.query({ limit: 1000 })).toHaveLength(1000);
      expect((await s.get('big1499'))?.startedAt).toBe(T0 + 1499);
    });
  });
}
