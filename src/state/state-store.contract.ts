/**
 * The cases every StateStore implementation must pass: memory today (memory.test.ts), Redis
 * later, with the same file. Time is passed in (`now`, bucket indices): no clock, no sleeps.
 * A Redis run gives `makeStore` a fresh key prefix (or a flushed database) per case.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Headroom } from './balance-state.js';
import { freshBreaker, type BreakerState } from './breaker-state.js';
import type { BudgetWindow, RetryAllowance } from './retry-budget-window.js';
import type { StateStore } from './state-store.js';

const T0 = 1_700_000_000_000;

const openState: BreakerState = { phase: 'open', reason: 'failure_rate', kind: 'server_error', openedAt: T0, reopensAt: T0 + 30_000, cooldownMs: 30_000 };
const halfOpen: BreakerState = { phase: 'half_open', reason: 'upstream_auth', kind: 'upstream_auth', cooldownMs: 300_000, probeLeases: [T0 + 1, T0 + 2], successes: 1 };

function at(bucket: number): BudgetWindow {
  return { bucket, buckets: 10 };
}

const ratio20: RetryAllowance = { ratio: 0.2, floor: 0 };

export function describeStateStoreContract(name: string, makeStore: () => StateStore | Promise<StateStore>): void {
  describe(`StateStore contract: ${name}`, () => {
    let stores: StateStore[] = [];
    async function store(): Promise<StateStore> {
      const s = await makeStore();
      stores.push(s);
      return s;
    }
    afterEach(async () => {
      await Promise.all(stores.map((s) => s.close()));
      stores = [];
    });

    describe('cooldowns', () => {
      it('holds a cooldown until it ends', async () => {
        const s = await store();
        await s.setCooldown('p/m', { untilMs: T0 + 1_000, reason: 'rate_limited' });
        expect(await s.getCooldown('p/m', T0)).toEqual({ untilMs: T0 + 1_000, reason: 'rate_limited' });
        expect(await s.getCooldown('p/m', T0 + 1_000)).toBeUndefined();
        expect(await s.getCooldown('other/m', T0)).toBeUndefined();
      });

      it('keeps the longer of two cooldowns', async () => {
        const s = await store();
        await s.setCooldown('p/m', { untilMs: T0 + 5_000, reason: 'quota_exhausted' });
        await s.setCooldown('p/m', { untilMs: T0 + 1_000, reason: 'rate_limited' });
        expect(await s.getCooldown('p/m', T0)).toEqual({ untilMs: T0 + 5_000, reason: 'quota_exhausted' });
        await s.setCooldown('p/m', { untilMs: T0 + 9_000, reason: 'upstream_auth' });
        expect(await s.getCooldown('p/m', T0)).toEqual({ untilMs: T0 + 9_000, reason: 'upstream_auth' });
      });
    });

    describe('breakers: versioned compare-and-set', () => {
      it('knows nothing of a target never written', async () => {
        const s = await store();
        expect(await s.getBreaker('p/m')).toBeUndefined();
      });

      it('creates at expected version 0, then bumps the version by one per write', async () => {
        const s = await store();
        expect(await s.compareAndSetBreaker('p/m', 0, openState)).toBe(true);
        expect(await s.getBreaker('p/m')).toEqual({ version: 1, state: openState });
        expect(await s.compareAndSetBreaker('p/m', 1, halfOpen)).toBe(true);
        expect(await s.getBreaker('p/m')).toEqual({ version: 2, state: halfOpen });
      });

      it('refuses a write at a stale version and keeps the stored state', async () => {
        const s = await store();
        await s.compareAndSetBreaker('p/m', 0, openState);
        expect(await s.compareAndSetBreaker('p/m', 0, halfOpen)).toBe(false);
        expect(await s.compareAndSetBreaker('p/m', 7, halfOpen)).toBe(false);
        expect(await s.getBreaker('p/m')).toEqual({ version: 1, state: openState });
      });

      it('refuses a write at a version ahead of a target never written', async () => {
        const s = await store();
        expect(await s.compareAndSetBreaker('p/m', 3, openState)).toBe(false);
        expect(await s.getBreaker('p/m')).toBeUndefined();
      });

      it('lets exactly one of two racing writers win', async () => {
        const s = await store();
        const results = await Promise.all([s.compareAndSetBreaker('p/m', 0, openState), s.compareAndSetBreaker('p/m', 0, halfOpen)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await s.getBreaker('p/m'))?.version).toBe(1);
      });

      it('keeps targets apart', async () => {
        const s = await store();
        await s.compareAndSetBreaker('a/m', 0, openState);
        expect(await s.getBreaker('b/m')).toBeUndefined();
        expect(await s.compareAndSetBreaker('b/m', 0, halfOpen)).toBe(true);
        expect((await s.getBreaker('a/m'))?.state).toEqual(openState);
      });

      it('round-trips every phase exactly (plain JSON; a read is a snapshot: changing it, where allowed at all, never changes the stored state)', async () => {
        const s = await store();
        const closed: BreakerState = { ...freshBreaker(), outcomes: ['ok', 'failed', 'ok'], consecutiveFailures: 0 };
        await s.compareAndSetBreaker('p/m', 0, closed);
        closed.outcomes.push('failed');
        const read = await s.getBreaker('p/m');
        expect(read?.state).toEqual({ phase: 'closed', outcomes: ['ok', 'failed', 'ok'], consecutiveFailures: 0 });
        try {
          if (read?.state.phase === 'closed') read.state.outcomes.length = 0;
        } catch {
          // A store may hand out frozen snapshots (the memory store does, to spare a copy per read).
        }
        expect((await s.getBreaker('p/m'))?.state).toEqual({ phase: 'closed', outcomes: ['ok', 'failed', 'ok'], consecutiveFailures: 0 });
        await s.compareAndSetBreaker('p/m', 1, halfOpen);
        expect((await s.getBreaker('p/m'))?.state).toEqual(halfOpen);
      });
    });

    describe('answer cache (degradation)', () => {
      it('returns an answer until it expires, per scope', async () => {
        const s = await store();
        await s.putCachedAnswer('a', 'k', 'answer-1', 1_000, 10);
        expect(await s.getCachedAnswer('a', 'k', 999)).toBe('answer-1');
        expect(await s.getCachedAnswer('b', 'k', 999)).toBeUndefined();
        expect(await s.getCachedAnswer('a', 'k', 1_000)).toBeUndefined();
      });

      it('keeps at most maxEntries per scope, the most recently stored', async () => {
        const s = await store();
        for (const k of ['k1', 'k2', 'k3']) await s.putCachedAnswer('a', k, k, 10_000, 2);
        await s.putCachedAnswer('b', 'k1', 'other scope', 10_000, 2);
        expect(await s.getCachedAnswer('a', 'k1', 0)).toBeUndefined();
        expect(await s.getCachedAnswer('a', 'k2', 0)).toBe('k2');
        expect(await s.getCachedAnswer('a', 'k3', 0)).toBe('k3');
        expect(await s.getCachedAnswer('b', 'k1', 0)).toBe('other scope');
        await s.putCachedAnswer('a', 'k2', 'k2 again', 10_000, 2); // storing again makes it the newest
        await s.putCachedAnswer('a', 'k4', 'k4', 10_000, 2);
        expect(await s.getCachedAnswer('a', 'k3', 0)).toBeUndefined();
        expect(await s.getCachedAnswer('a', 'k2', 0)).toBe('k2 again');
      });
    });

    describe('retry budget: bucketed counters', () => {
      it('counts first attempts in every scope given', async () => {
        const s = await store();
        await s.addFirstAttempt(['route:a', 'fleet'], at(100));
        await s.addFirstAttempt(['route:b', 'fleet'], at(100));
        expect(await s.readRetryBudget('route:a', at(100))).toEqual({ firsts: 1, retries: 0 });
        expect(await s.readRetryBudget('route:b', at(100))).toEqual({ firsts: 1, retries: 0 });
        expect(await s.readRetryBudget('fleet', at(100))).toEqual({ firsts: 2, retries: 0 });
        expect(await s.readRetryBudget('route:c', at(100))).toEqual({ firsts: 0, retries: 0 });
      });

      it('sums the window and forgets buckets that left it', async () => {
        const s = await store();
        await s.addFirstAttempt(['x'], at(100));
        await s.addFirstAttempt(['x'], at(105));
        await s.addFirstAttempt(['x'], at(109));
        expect(await s.readRetryBudget('x', at(109))).toEqual({ firsts: 3, retries: 0 });
        expect(await s.readRetryBudget('x', at(110))).toEqual({ firsts: 2, retries: 0 });
        expect(await s.readRetryBudget('x', at(115))).toEqual({ firsts: 1, retries: 0 });
        expect(await s.readRetryBudget('x', at(119))).toEqual({ firsts: 0, retries: 0 });
        await s.addFirstAttempt(['x'], at(200));
        expect(await s.readRetryBudget('x', at(200))).toEqual({ firsts: 1, retries: 0 });
      });

      it('takes retries up to max(floor, ⌊ratio × firsts⌋) and no further', async () => {
        const s = await store();
        for (let i = 0; i < 10; i++) await s.addFirstAttempt(['x'], at(100));
        expect(await s.tryTakeRetry(['x'], at(100), ratio20)).toBe(true);
        expect(await s.tryTakeRetry(['x'], at(100), ratio20)).toBe(true);
        expect(await s.tryTakeRetry(['x'], at(100), ratio20)).toBe(false);
        expect(await s.readRetryBudget('x', at(100))).toEqual({ firsts: 10, retries: 2 });
      });

      it('allows the floor with no first attempts at all', async () => {
        const s = await store();
        const floor3: RetryAllowance = { ratio: 0.2, floor: 3 };
        const taken = [];
        for (let i = 0; i < 5; i++) taken.push(await s.tryTakeRetry(['x'], at(100), floor3));
        expect(taken).toEqual([true, true, true, false, false]);
      });

      it('takes from every scope or from none', async () => {
        const s = await store();
        const floor1: RetryAllowance = { ratio: 0, floor: 1 };
        expect(await s.tryTakeRetry(['a', 'fleet'], at(100), floor1)).toBe(true);
        // 'fleet' is full: nothing is taken from 'b' either.
        expect(await s.tryTakeRetry(['b', 'fleet'], at(100), floor1)).toBe(false);
        expect(await s.readRetryBudget('b', at(100))).toEqual({ firsts: 0, retries: 0 });
        expect(await s.readRetryBudget('fleet', at(100))).toEqual({ firsts: 0, retries: 1 });
        // 'a' is full: nothing is taken from 'fleet2'.
        expect(await s.tryTakeRetry(['a', 'fleet2'], at(100), floor1)).toBe(false);
        expect(await s.readRetryBudget('fleet2', at(100))).toEqual({ firsts: 0, retries: 0 });
      });

      it('never over-grants under concurrent takes', async () => {
        const s = await store();
        const floor5: RetryAllowance = { ratio: 0, floor: 5 };
        const results = await Promise.all(Array.from({ length: 20 }, () => s.tryTakeRetry(['x', 'fleet'], at(100), floor5)));
        expect(results.filter(Boolean)).toHaveLength(5);
        expect(await s.readRetryBudget('fleet', at(100))).toEqual({ firsts: 0, retries: 5 });
      });

      it('frees room as retries slide out of the window', async () => {
        const s = await store();
        const floor2: RetryAllowance = { ratio: 0, floor: 2 };
        expect(await s.tryTakeRetry(['x'], at(100), floor2)).toBe(true);
        expect(await s.tryTakeRetry(['x'], at(104), floor2)).toBe(true);
        expect(await s.tryTakeRetry(['x'], at(109), floor2)).toBe(false);
        expect(await s.tryTakeRetry(['x'], at(110), floor2)).toBe(true);
        expect(await s.tryTakeRetry(['x'], at(110), floor2)).toBe(false);
      });
    });

    describe('load balancing: target load, cursors, session affinity', () => {
      const query = (over: Partial<Parameters<StateStore['readBalance']>[0]> = {}): Parameters<StateStore['readBalance']>[0] => ({ targets: [], cursors: [], now: T0, ...over });
      const headroom: Headroom = { at: T0, windows: { requests: { remaining: 10, limit: 100, resetAt: T0 + 6_000 }, tokens: { remaining: 5_000 } } };

      it('knows nothing of targets, cursors or sessions never written', async () => {
        const s = await store();
        const read = await s.readBalance(query({ targets: ['p/m'], cursors: ['route#0'], affinity: { scope: 'chat', key: 'alice' } }));
        expect(read).toEqual({ targets: { 'p/m': { inFlight: 0 } }, cursors: { 'route#0': 0 } });
      });

      it('counts attempts in flight, per target, never below zero', async () => {
        const s = await store();
        await s.beginAttempt('a/m');
        await s.beginAttempt('a/m');
        await s.beginAttempt('b/m');
        await s.endAttempt('a/m', { alpha: 0.3, now: T0 });
        expect((await s.readBalance(query({ targets: ['a/m', 'b/m'] }))).targets).toEqual({ 'a/m': { inFlight: 1 }, 'b/m': { inFlight: 1 } });
        await s.endAttempt('b/m', { alpha: 0.3, now: T0 });
        await s.endAttempt('b/m', { alpha: 0.3, now: T0 });
        expect((await s.readBalance(query({ targets: ['b/m'] }))).targets['b/m']?.inFlight).toBe(0);
      });

      it('folds time to first output into an EWMA: the first sample as is, then alpha of each difference', async () => {
        const s = await store();
        await s.beginAttempt('p/m');
        await s.endAttempt('p/m', { ttftMs: 100, alpha: 0.5, now: T0 });
        expect((await s.readBalance(query({ targets: ['p/m'] }))).targets['p/m']?.latency).toEqual({ ms: 100, samples: 1, at: T0 });
        await s.endAttempt('p/m', { ttftMs: 300, alpha: 0.5, now: T0 + 1 });
        await s.endAttempt('p/m', { alpha: 0.5, now: T0 + 2 }); // no sample: the average stays
        expect((await s.readBalance(query({ targets: ['p/m'] }))).targets['p/m']?.latency).toEqual({ ms: 200, samples: 2, at: T0 + 1 });
      });

      it('replaces the headroom when an attempt reports one and keeps it otherwise (plain JSON round trip)', async () => {
        const s = await store();
        await s.endAttempt('p/m', { alpha: 0.3, headroom, now: T0 });
        await s.endAttempt('p/m', { alpha: 0.3, now: T0 + 1 });
        expect((await s.readBalance(query({ targets: ['p/m'] }))).targets['p/m']?.headroom).toEqual(headroom);
        const later: Headroom = { at: T0 + 2, windows: { requests: { remaining: 99 } } };
        await s.endAttempt('p/m', { alpha: 0.3, headroom: later, now: T0 + 2 });
        expect((await s.readBalance(query({ targets: ['p/m'] }))).targets['p/m']?.headroom).toEqual(later);
      });

      it('hands out snapshots: changing a read, where allowed at all, never changes the store', async () => {
        const s = await store();
        await s.beginAttempt('p/m');
        await s.endAttempt('p/m', { ttftMs: 50, alpha: 0.3, headroom, now: T0 });
        await s.beginAttempt('p/m');
        const read = await s.readBalance(query({ targets: ['p/m'] }));
        try {
          const load = read.targets['p/m'] as { inFlight: number; latency?: { ms: number } };
          load.inFlight = 99;
          if (load.latency) load.latency.ms = 99;
        } catch {
          // A store may hand out frozen snapshots.
        }
        expect((await s.readBalance(query({ targets: ['p/m'] }))).targets['p/m']).toMatchObject({ inFlight: 1, latency: { ms: 50 } });
      });

      it('takes one turn of each cursor per read, independently', async () => {
        const s = await store();
        const turns: number[] = [];
        for (let i = 0; i < 3; i++) turns.push((await s.readBalance(query({ cursors: ['r#0'] }))).cursors['r#0'] ?? -1);
        expect(turns).toEqual([0, 1, 2]);
        expect((await s.readBalance(query({ cursors: ['r#0', 'r#1'] }))).cursors).toEqual({ 'r#0': 3, 'r#1': 0 });
      });

      it('gives concurrent takes of one cursor distinct turns', async () => {
        const s = await store();
        const reads = await Promise.all(Array.from({ length: 10 }, () => s.readBalance(query({ cursors: ['r#0'] }))));
        expect(reads.map((r) => r.cursors['r#0']).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      });

      it('maps a session to a target until its TTL passes, per scope, the last write winning', async () => {
        const s = await store();
        await s.setAffinity('chat', 'alice', 'a/m', 1_000, T0);
        const alice = { scope: 'chat', key: 'alice' };
        expect((await s.readBalance(query({ affinity: alice, now: T0 + 999 }))).affinity).toEqual({ targetId: 'a/m', expiresAt: T0 + 1_000 });
        expect((await s.readBalance(query({ affinity: { scope: 'other', key: 'alice' } }))).affinity).toBeUndefined();
        expect((await s.readBalance(query({ affinity: { scope: 'chat', key: 'bob' } }))).affinity).toBeUndefined();
        await s.setAffinity('chat', 'alice', 'b/m', 1_000, T0 + 500);
        expect((await s.readBalance(query({ affinity: alice, now: T0 + 1_200 }))).affinity).toEqual({ targetId: 'b/m', expiresAt: T0 + 1_500 });
        expect((await s.readBalance(query({ affinity: alice, now: T0 + 1_500 }))).affinity).toBeUndefined();
      });
    });

    describe('quota counters (fixed windows)', () => {
      const MIN = 60_000;
      const start = Math.floor(T0 / MIN) * MIN;

      it('allows up to the limit in a window, refuses past it without counting, and starts afresh in the next', async () => {
        const s = await store();
        const results = [];
        for (let i = 0; i < 4; i++) results.push(await s.consumeQuota('key:a:rpm', 1, 3, MIN, start + 10));
        expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
        expect(results[3]).toEqual({ allowed: false, used: 3, resetAt: start + MIN });
        expect(await s.consumeQuota('key:a:rpm', 1, 3, MIN, start + MIN)).toEqual({ allowed: true, used: 1, resetAt: start + 2 * MIN });
      });

      it('keeps keys and window sizes apart, and weighs amounts', async () => {
        const s = await store();
        expect((await s.consumeQuota('key:a:tpm', 700, 1_000, MIN, start)).used).toBe(700);
        expect((await s.consumeQuota('key:a:tpm', 400, 1_000, MIN, start)).allowed).toBe(false);
        expect((await s.consumeQuota('key:a:tpm', 300, 1_000, MIN, start)).used).toBe(1_000);
        expect((await s.consumeQuota('key:b:tpm', 400, 1_000, MIN, start)).used).toBe(400);
        expect((await s.consumeQuota('key:a:tpm', 1, 1_000, 1_000, start)).used).toBe(1);
      });

      it('adds without a check, and an unlimited consume always passes', async () => {
        const s = await store();
        await s.addQuota('key:a:tpm', 5_000, MIN, start);
        expect(await s.consumeQuota('key:a:tpm', 1, 1_000, MIN, start)).toMatchObject({ allowed: false, used: 5_000 });
        expect(await s.consumeQuota('key:a:tpm', 1, Number.POSITIVE_INFINITY, MIN, start)).toMatchObject({ allowed: true, used: 5_001 });
      });

      it('lets exactly the limit through when many consume at once', async () => {
        const s = await store();
        const results = await Promise.all(Array.from({ length: 25 }, () => s.consumeQuota('key:c:rpm', 1, 10, MIN, start)));
        expect(results.filter((r) => r.allowed)).toHaveLength(10);
      });
    });
  });
}
