import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../state/memory.js';
import { FakeClock } from './fake-clock.js';
import { DEFAULT_RETRY_BUDGET_CONFIG, RetryBudget, retryBudgetConfig, type RetryBudgetConfig } from './retry-budget.js';

function setup(overrides: Partial<RetryBudgetConfig> = {}) {
  // Start on a bucket boundary so "n seconds later" means "n buckets later".
  const clock = new FakeClock(1_700_000_000_000);
  const budget = new RetryBudget(new MemoryStateStore(), retryBudgetConfig(overrides));
  const firsts = async (route: string, n: number) => {
    for (let i = 0; i < n; i++) await budget.recordFirstAttempt(route, clock.now());
  };
  const retries = async (route: string, n: number) => {
    const got: boolean[] = [];
    for (let i = 0; i < n; i++) got.push(await budget.tryAcquireRetry(route, clock.now()));
    return got.filter(Boolean).length;
  };
  return { clock, budget, firsts, retries };
}

describe('RetryBudget', () => {
  it('allows ratio × first attempts, then refuses', async () => {
    const ctx = setup({ minRetriesPerWindow: 0 });
    await ctx.firsts('chat', 100);
    expect(await ctx.retries('chat', 50)).toBe(20);
    expect(await ctx.budget.tryAcquireRetry('chat', ctx.clock.now())).toBe(false);
    expect(await ctx.budget.level('chat', ctx.clock.now())).toEqual({
      route: { firsts: 100, retries: 20, allowed: 20, remaining: 0 },
      fleet: { firsts: 100, retries: 20, allowed: 20, remaining: 0 },
    });
  });

  it('recovers as the window slides past the spent retries', async () => {
    const ctx = setup({ minRetriesPerWindow: 0 });
    await ctx.firsts('chat', 50);
    expect(await ctx.retries('chat', 20)).toBe(10); // exhausted at t = 0
    await ctx.clock.advance(5_000);
    await ctx.firsts('chat', 50); // 100 firsts in the window now: allowance 20
    expect(await ctx.retries('chat', 20)).toBe(10);
    expect(await ctx.budget.tryAcquireRetry('chat', ctx.clock.now())).toBe(false);
    await ctx.clock.advance(4_999); // t = 9.999 s: the first bucket is still in the window
    expect(await ctx.budget.tryAcquireRetry('chat', ctx.clock.now())).toBe(false);
    await ctx.clock.advance(1); // t = 10 s: bucket 0 (50 firsts, 10 retries) slid out
    expect(await ctx.budget.level('chat', ctx.clock.now())).toMatchObject({ route: { firsts: 50, retries: 10, allowed: 10, remaining: 0 } });
    await ctx.firsts('chat', 50);
    expect(await ctx.retries('chat', 20)).toBe(10);
    await ctx.clock.advance(10_000); // everything slid out
    expect(await ctx.budget.level('chat', ctx.clock.now())).toMatchObject({ route: { firsts: 0, retries: 0 } });
  });

  it('a quiet route can still retry up to the floor', async () => {
    const ctx = setup();
    await ctx.firsts('quiet', 3); // 0.2 × 3 = 0.6: the floor of 10 applies
    expect(await ctx.retries('quiet', 15)).toBe(10);
    expect(await ctx.budget.level('quiet', ctx.clock.now())).toMatchObject({ route: { allowed: 10, remaining: 0 } });
  });

  it('a busy route gets more than the floor', async () => {
    const ctx = setup();
    await ctx.firsts('busy', 200);
    expect(await ctx.retries('busy', 60)).toBe(40);
  });

  it('keeps routes apart: a noisy route exhausts its own budget, another can still retry', async () => {
    const ctx = setup();
    await ctx.firsts('noisy', 200);
    await ctx.firsts('calm', 50);
    expect(await ctx.retries('noisy', 100)).toBe(40);
    expect(await ctx.budget.tryAcquireRetry('noisy', ctx.clock.now())).toBe(false);
    // Fleet: 250 firsts → 50 allowed, 40 used. The calm route's own floor is 10.
    expect(await ctx.retries('calm', 5)).toBe(5);
    expect(await ctx.budget.level('calm', ctx.clock.now())).toEqual({
      route: { firsts: 50, retries: 5, allowed: 10, remaining: 5 },
      fleet: { firsts: 250, retries: 45, allowed: 50, remaining: 5 },
    });
  });

  it('the fleet cap still applies: route floors cannot add up past it', async () => {
    const ctx = setup({ minRetriesPerWindow: 10 });
    // Five quiet routes, each allowed its floor of 10, but the fleet too only has 10 (10 firsts × 0.2 < floor).
    for (const route of ['a', 'b', 'c', 'd', 'e']) await ctx.firsts(route, 2);
    expect(await ctx.retries('a', 10)).toBe(10);
    expect(await ctx.retries('b', 10)).toBe(0);
    // A refused retry took nothing from the route's own budget.
    expect(await ctx.budget.level('b', ctx.clock.now())).toMatchObject({ route: { retries: 0, remaining: 10 }, fleet: { retries: 10, remaining: 0 } });
  });

  it('is shared by every RetryBudget over the same store (every instance of the gateway)', async () => {
    const store = new MemoryStateStore();
    const config = retryBudgetConfig({ minRetriesPerWindow: 2, ratio: 0 });
    const one = new RetryBudget(store, config);
    const two = new RetryBudget(store, config);
    expect(await one.tryAcquireRetry('chat', 0)).toBe(true);
    expect(await two.tryAcquireRetry('chat', 0)).toBe(true);
    expect(await one.tryAcquireRetry('chat', 0)).toBe(false);
  });

  it('has documented defaults and checks its config', () => {
    expect(DEFAULT_RETRY_BUDGET_CONFIG).toEqual({ ratio: 0.2, windowMs: 10_000, buckets: 10, minRetriesPerWindow: 10 });
    expect(retryBudgetConfig()).toEqual(DEFAULT_RETRY_BUDGET_CONFIG);
    expect(() => retryBudgetConfig({ ratio: -1 })).toThrow('retryBudget.ratio');
    expect(() => retryBudgetConfig({ buckets: 0 })).toThrow('retryBudget.buckets');
    expect(() => retryBudgetConfig({ windowMs: 10_001 })).toThrow('retryBudget.windowMs');
    expect(() => retryBudgetConfig({ minRetriesPerWindow: 1.5 })).toThrow('retryBudget.minRetriesPerWindow');
  });
});
