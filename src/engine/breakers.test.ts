import { describe, expect, it, vi } from 'vitest';
import { FAILURE_KINDS, type FailureKind } from '../canonical/failure.js';
import { MemoryStateStore } from '../state/memory.js';
import { breakerConfig, feedsBreaker, type BreakerConfig, type BreakerOutcome } from './breaker.js';
import { CircuitBreakers, type BreakerStore } from './breakers.js';
import { FakeClock } from './fake-clock.js';

const T = 'openai/gpt-4o';
const fail = (kind: FailureKind, retryAfterMs?: number): BreakerOutcome => (retryAfterMs === undefined ? { ok: false, kind } : { ok: false, kind, retryAfterMs });
const ok: BreakerOutcome = { ok: true };

function setup(overrides: Partial<BreakerConfig> = {}) {
  const clock = new FakeClock();
  const store = new MemoryStateStore();
  const breakers = new CircuitBreakers(store, breakerConfig(overrides));
  const feed = async (outcomes: BreakerOutcome[], probe = false) => {
    const transitions = [];
    for (const outcome of outcomes) transitions.push(await breakers.record(T, outcome, clock.now(), probe));
    return transitions.filter((t) => t !== undefined);
  };
  return { clock, store, breakers, feed };
}

/** Opens the breaker with consecutive server errors; returns when it opened. */
async function openIt(ctx: ReturnType<typeof setup>): Promise<number> {
  await ctx.feed(Array.from({ length: 5 }, () => fail('server_error')));
  expect((await ctx.breakers.read(T)).phase).toBe('open');
  return ctx.clock.now();
}

describe('CircuitBreakers: opening', () => {
  it('opens on the failure rate once minRequests outcomes are in', async () => {
    const ctx = setup();
    // 0.4 after five outcomes: below the rate.
    expect(await ctx.feed([ok, fail('server_error'), ok, fail('timeout_headers'), ok])).toEqual([]);
    expect(await ctx.breakers.admit(T, ctx.clock.now())).toEqual({ admitted: true, probe: false, state: 'closed' });
    const [t] = await ctx.feed([fail('stream_cut')]); // 3 of 6 = 0.5
    expect(t).toEqual({
      targetId: T,
      from: 'closed',
      to: 'open',
      at: ctx.clock.now(),
      reason: 'failure_rate',
      kind: 'stream_cut',
      reopensAt: ctx.clock.now() + 30_000,
      cooldownMs: 30_000,
      misconfigured: false,
    });
    expect(await ctx.breakers.admit(T, ctx.clock.now())).toEqual({ admitted: false, reopensAt: ctx.clock.now() + 30_000, reason: 'failure_rate', kind: 'stream_cut' });
  });

  it('does not judge a rate on fewer than minRequests outcomes', async () => {
    const ctx = setup({ consecutiveFailures: 10 });
    expect(await ctx.feed([fail('server_error'), fail('server_error'), fail('server_error'), fail('server_error')])).toEqual([]);
    const [t] = await ctx.feed([fail('server_error')]);
    expect(t).toMatchObject({ to: 'open', reason: 'failure_rate' });
  });

  it('opens on consecutive failures even when the window’s rate is low', async () => {
    const ctx = setup();
    await ctx.feed(Array.from({ length: 20 }, () => ok));
    expect(await ctx.feed(Array.from({ length: 4 }, () => fail('overloaded')))).toEqual([]); // 4 of 20
    const [t] = await ctx.feed([fail('connection')]);
    expect(t).toMatchObject({ to: 'open', reason: 'consecutive_failures', kind: 'connection', cooldownMs: 30_000 });
  });

  it('a success resets the consecutive count', async () => {
    const ctx = setup({ window: 20, minRequests: 20 });
    await ctx.feed(Array.from({ length: 15 }, () => ok));
    const mixed = [fail('server_error'), fail('server_error'), fail('server_error'), fail('server_error'), ok];
    expect(await ctx.feed([...mixed, ...mixed])).toEqual([]);
    expect((await ctx.breakers.read(T)).phase).toBe('closed');
  });

  it.each(FAILURE_KINDS.filter((kind) => feedsBreaker(kind) === 'ignore'))('never opens on %s, however many', async (kind) => {
    const ctx = setup();
    expect(await ctx.feed(Array.from({ length: 50 }, () => fail(kind)))).toEqual([]);
    expect(await ctx.breakers.read(T)).toEqual({ phase: 'closed', outcomes: [], consecutiveFailures: 0 });
  });

  it.each(FAILURE_KINDS.filter((kind) => feedsBreaker(kind) === 'failure'))('opens on five %s in a row', async (kind) => {
    const ctx = setup();
    const transitions = await ctx.feed(Array.from({ length: 5 }, () => fail(kind)));
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ to: 'open', kind, misconfigured: false });
  });

  it.each(['upstream_auth', 'model_not_found'] as const)('%s opens it at once, for misconfiguredCooldownMs', async (kind) => {
    const ctx = setup();
    await ctx.feed(Array.from({ length: 10 }, () => ok));
    const [t] = await ctx.feed([fail(kind)]);
    const now = ctx.clock.now();
    expect(t).toMatchObject({ from: 'closed', to: 'open', reason: kind, kind, misconfigured: true, cooldownMs: 300_000, reopensAt: now + 300_000 });
    await ctx.clock.advance(299_999);
    expect(await ctx.breakers.admit(T, ctx.clock.now())).toEqual({ admitted: false, reopensAt: now + 300_000, reason: kind, kind });
    await ctx.clock.advance(1);
    expect(await ctx.breakers.admit(T, ctx.clock.now())).toEqual({ admitted: true, probe: true, state: 'half_open' });
  });
});

describe('CircuitBreakers: rate limits', () => {
  it('a single 429 does not open it, whatever its Retry-After (decide() cools the target)', async () => {
    const ctx = setup();
    expect(await ctx.feed([fail('rate_limited', 600_000)])).toEqual([]);
    expect((await ctx.breakers.admit(T, ctx.clock.now())).admitted).toBe(true);
  });

  it('opens for max(cooldownMs, Retry-After) when a 429 tips it: a longer Retry-After wins', async () => {
    const ctx = setup();
    await ctx.feed([fail('server_error'), fail('server_error'), fail('server_error'), fail('server_error')]);
    const [t] = await ctx.feed([fail('rate_limited', 90_000)]);
    expect(t).toMatchObject({ reason: 'consecutive_failures', kind: 'rate_limited', cooldownMs: 90_000, reopensAt: ctx.clock.now() + 90_000 });
  });

  it('a shorter Retry-After does not shorten the configured cooldown', async () => {
    const ctx = setup();
    const [t] = await ctx.feed(Array.from({ length: 5 }, () => fail('rate_limited', 1_000)));
    expect(t).toMatchObject({ kind: 'rate_limited', cooldownMs: 30_000 });
  });
});

describe('CircuitBreakers: half-open', () => {
  it('admits at most halfOpenProbes probes at once, even when admits race', async () => {
    const ctx = setup({ halfOpenProbes: 2 });
    await openIt(ctx);
    await ctx.clock.advance(30_000);
    const admissions = await Promise.all(Array.from({ length: 6 }, () => ctx.breakers.admit(T, ctx.clock.now())));
    expect(admissions.filter((a) => a.admitted)).toEqual([
      { admitted: true, probe: true, state: 'half_open' },
      { admitted: true, probe: true, state: 'half_open' },
    ]);
    expect(admissions.filter((a) => !a.admitted)).toHaveLength(4);
    expect(admissions.find((a) => !a.admitted)).toEqual({ admitted: false, reopensAt: ctx.clock.now() + 120_000, reason: 'consecutive_failures', kind: 'server_error' });
  });

  it('with the default of one probe, a second caller is skipped until the probe ends', async () => {
    const ctx = setup();
    await openIt(ctx);
    await ctx.clock.advance(30_000);
    const first = await ctx.breakers.admit(T, ctx.clock.now());
    expect(first).toEqual({ admitted: true, probe: true, state: 'half_open' });
    expect((await ctx.breakers.admit(T, ctx.clock.now())).admitted).toBe(false);
    await ctx.breakers.record(T, ok, ctx.clock.now(), true);
    expect(await ctx.breakers.admit(T, ctx.clock.now())).toEqual({ admitted: true, probe: true, state: 'half_open' });
  });

  it('closes only after successThreshold probe successes', async () => {
    const ctx = setup({ successThreshold: 3 });
    await openIt(ctx);
    await ctx.clock.advance(30_000);
    for (let i = 0; i < 2; i++) {
      expect((await ctx.breakers.admit(T, ctx.clock.now())).admitted).toBe(true);
      expect(await ctx.breakers.record(T, ok, ctx.clock.now(), true)).toBeUndefined();
      expect((await ctx.breakers.read(T)).phase).toBe('half_open');
    }
    expect((await ctx.breakers.admit(T, ctx.clock.now())).admitted).toBe(true);
    expect(await ctx.breakers.record(T, ok, ctx.clock.now(), true)).toEqual({ targetId: T, from: 'half_open', to: 'closed', at: ctx.clock.now() });
    expect(await ctx.breakers.admit(T, ctx.clock.now())).toEqual({ admitted: true, probe: false, state: 'closed' });
  });

  it('a failed probe reopens it for twice the last period, doubling up to maxCooldownMs', async () => {
    const ctx = setup();
    await openIt(ctx);
    const periods = [];
    let cooldown = 30_000;
    for (let i = 0; i < 5; i++) {
      await ctx.clock.advance(cooldown);
      expect((await ctx.breakers.admit(T, ctx.clock.now())).admitted).toBe(true);
      const t = await ctx.breakers.record(T, fail('timeout_first_token'), ctx.clock.now(), true);
      expect(t).toMatchObject({ from: 'half_open', to: 'open', reason: 'timeout_first_token', misconfigured: false });
      cooldown = t?.to === 'open' ? t.cooldownMs : 0;
      periods.push(cooldown);
    }
    expect(periods).toEqual([60_000, 120_000, 240_000, 300_000, 300_000]);
    expect(await ctx.breakers.admit(T, ctx.clock.now() + 299_999)).toMatchObject({ admitted: false });
  });

  it('a probe answered with a long Retry-After stays open at least that long', async () => {
    const ctx = setup();
    await openIt(ctx);
    await ctx.clock.advance(30_000);
    await ctx.breakers.admit(T, ctx.clock.now());
    const t = await ctx.breakers.record(T, fail('rate_limited', 500_000), ctx.clock.now(), true);
    expect(t).toMatchObject({ to: 'open', cooldownMs: 500_000 });
  });

  it('a probe that hits a misconfiguration reopens it for misconfiguredCooldownMs', async () => {
    const ctx = setup();
    await openIt(ctx);
    await ctx.clock.advance(30_000);
    await ctx.breakers.admit(T, ctx.clock.now());
    expect(await ctx.breakers.record(T, fail('upstream_auth'), ctx.clock.now(), true)).toMatchObject({ to: 'open', misconfigured: true, cooldownMs: 300_000 });
  });

  it('is closed again after recovery, with a fresh window and the cooldown back to its start', async () => {
    const ctx = setup();
    await openIt(ctx);
    await ctx.clock.advance(30_000);
    await ctx.breakers.admit(T, ctx.clock.now());
    await ctx.breakers.record(T, fail('server_error'), ctx.clock.now(), true); // reopened for 60 s
    await ctx.clock.advance(60_000);
    for (let i = 0; i < 2; i++) {
      expect((await ctx.breakers.admit(T, ctx.clock.now())).admitted).toBe(true);
      await ctx.breakers.record(T, ok, ctx.clock.now(), true);
    }
    expect(await ctx.breakers.read(T)).toEqual({ phase: 'closed', outcomes: [], consecutiveFailures: 0 });
    expect(await ctx.feed([fail('server_error'), ok, fail('server_error'), ok])).toEqual([]);
    const transitions = await ctx.feed(Array.from({ length: 5 }, () => fail('server_error')));
    expect(transitions[0]).toMatchObject({ from: 'closed', to: 'open', cooldownMs: 30_000 });
  });

  it('release frees the slot of a probe that ended without an outcome', async () => {
    const ctx = setup();
    await openIt(ctx);
    await ctx.clock.advance(30_000);
    const probe = await ctx.breakers.admit(T, ctx.clock.now());
    expect(probe.admitted && probe.probe).toBe(true);
    expect((await ctx.breakers.admit(T, ctx.clock.now())).admitted).toBe(false);
    await ctx.breakers.release(T, true);
    expect(await ctx.breakers.admit(T, ctx.clock.now())).toEqual({ admitted: true, probe: true, state: 'half_open' });
  });

  it('a probe ending in an ignored kind frees its slot and counts for nothing', async () => {
    const ctx = setup();
    await openIt(ctx);
    await ctx.clock.advance(30_000);
    await ctx.breakers.admit(T, ctx.clock.now());
    expect(await ctx.breakers.record(T, fail('client_cancelled'), ctx.clock.now(), true)).toBeUndefined();
    expect(await ctx.breakers.read(T)).toMatchObject({ phase: 'half_open', probeLeases: [], successes: 0 });
  });

  it('a probe lost without a word (instance died) frees its slot after probeLeaseMs', async () => {
    const ctx = setup({ probeLeaseMs: 10_000 });
    await openIt(ctx);
    await ctx.clock.advance(30_000);
    await ctx.breakers.admit(T, ctx.clock.now());
    await ctx.clock.advance(9_999);
    expect((await ctx.breakers.admit(T, ctx.clock.now())).admitted).toBe(false);
    await ctx.clock.advance(1);
    expect(await ctx.breakers.admit(T, ctx.clock.now())).toEqual({ admitted: true, probe: true, state: 'half_open' });
  });

  it('ignores late outcomes: any while open, non-probes while half-open', async () => {
    const ctx = setup();
    await openIt(ctx);
    const open = await ctx.breakers.read(T);
    expect(await ctx.feed([ok, ok, ok, fail('server_error')])).toEqual([]);
    expect(await ctx.breakers.read(T)).toEqual(open);
    await ctx.clock.advance(30_000);
    await ctx.breakers.admit(T, ctx.clock.now());
    const half = await ctx.breakers.read(T);
    expect(await ctx.feed([ok, ok, fail('server_error')], false)).toEqual([]);
    expect(await ctx.breakers.read(T)).toEqual(half);
  });
});

describe('CircuitBreakers: store traffic', () => {
  function counting(store: MemoryStateStore) {
    const spy = { get: vi.spyOn(store, 'getBreaker'), cas: vi.spyOn(store, 'compareAndSetBreaker') };
    return spy;
  }

  it('a healthy target costs one read per admit and per recorded success, and no write', async () => {
    const ctx = setup();
    await ctx.feed(Array.from({ length: 20 }, () => ok));
    const spy = counting(ctx.store);
    await ctx.breakers.admit(T, ctx.clock.now());
    await ctx.breakers.record(T, ok, ctx.clock.now(), false);
    expect(spy.get).toHaveBeenCalledTimes(2);
    expect(spy.cas).not.toHaveBeenCalled();
  });

  it('an open target is skipped on one read', async () => {
    const ctx = setup();
    await openIt(ctx);
    const spy = counting(ctx.store);
    expect((await ctx.breakers.admit(T, ctx.clock.now())).admitted).toBe(false);
    expect(spy.get).toHaveBeenCalledTimes(1);
    expect(spy.cas).not.toHaveBeenCalled();
  });

  it('release of a non-probe touches nothing', async () => {
    const ctx = setup();
    const spy = counting(ctx.store);
    await ctx.breakers.release(T, false);
    expect(spy.get).not.toHaveBeenCalled();
  });

  it('re-reads and re-applies when another writer got in first', async () => {
    const inner = new MemoryStateStore();
    let interfere = 2;
    const store: BreakerStore = {
      getBreaker: (id) => inner.getBreaker(id),
      async compareAndSetBreaker(id, version, next) {
        if (interfere-- > 0) {
          // Another instance records a failure between our read and our write.
          const other = await inner.getBreaker(id);
          const state = other?.state ?? { phase: 'closed', outcomes: [], consecutiveFailures: 0 };
          if (state.phase === 'closed') await inner.compareAndSetBreaker(id, other?.version ?? 0, { ...state, outcomes: [...state.outcomes, 'failed'], consecutiveFailures: state.consecutiveFailures + 1 });
        }
        return inner.compareAndSetBreaker(id, version, next);
      },
    };
    const breakers = new CircuitBreakers(store, breakerConfig());
    await breakers.record(T, fail('server_error'), 0, false);
    expect(await breakers.read(T)).toEqual({ phase: 'closed', outcomes: ['failed', 'failed', 'failed'], consecutiveFailures: 3 });
  });

  it('drops an outcome rather than spin when every write loses', async () => {
    const inner = new MemoryStateStore();
    const store: BreakerStore = { getBreaker: (id) => inner.getBreaker(id), compareAndSetBreaker: async () => false };
    const breakers = new CircuitBreakers(store, breakerConfig());
    expect(await breakers.record(T, fail('upstream_auth'), 0, false)).toBeUndefined();
    expect((await breakers.read(T)).phase).toBe('closed');
  });

  it('refuses an admit rather than spin when every probe claim loses', async () => {
    const inner = new MemoryStateStore();
    await inner.compareAndSetBreaker(T, 0, { phase: 'open', reason: 'failure_rate', kind: 'server_error', openedAt: 0, reopensAt: 10, cooldownMs: 10 });
    const store: BreakerStore = { getBreaker: (id) => inner.getBreaker(id), compareAndSetBreaker: async () => false };
    const breakers = new CircuitBreakers(store, breakerConfig());
    expect(await breakers.admit(T, 10)).toEqual({ admitted: false, reopensAt: 10, reason: 'failure_rate', kind: 'server_error' });
  });
});
