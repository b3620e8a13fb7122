import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { chat, pollFor, useHarness, USER_MESSAGES } from './harness.js';

describe('a flapping primary and a retry storm', () => {
  const start = useHarness();

  it('serves from the fallback while the primary is down (skipping it once its circuit opens), and returns to the primary soon after it recovers', async () => {
    const h = await start({
      simulators: {
        sim: {
          primary: { kind: 'outage', down_ms: 1_000, every_ms: 600_000, then: { kind: 'ok', text: 'primary' } },
          backup: { kind: 'ok', text: 'backup' },
        },
      },
      routes: { chat: { ladder: [{ targets: ['sim/primary'], retries: 0 }, { targets: ['sim/backup'] }] } },
      // Scaled down: open after 5 failures in a row, probe again after 300 ms.
      breaker: { consecutive_failures: 5, cooldown_ms: 300, max_cooldown_ms: 600, success_threshold: 1 },
    });
    const served: { at: number; by: string | null }[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < 4_000) {
      const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
      served.push({ at: performance.now() - t0, by: out.headers.get('x-understudy-served-by') });
      await new Promise((r) => setTimeout(r, 20));
    }
    const during = served.filter((s) => s.at < 900);
    expect(during.length).toBeGreaterThan(5);
    expect(during.every((s) => s.by === 'sim/backup')).toBe(true);
    const primaryCallsDuringOutage = h.sim.callsFor('primary').filter((c) => c.outcome !== 'ok').length;
    // Five failures open the circuit; after that only probes reach the primary, one per cooldown
    // (300 ms, doubling to 600 ms): a handful over a 1 s outage, not one per request.
    expect(primaryCallsDuringOutage).toBeGreaterThanOrEqual(5);
    expect(primaryCallsDuringOutage).toBeLessThanOrEqual(5 + 4);
    expect(primaryCallsDuringOutage).toBeLessThan(served.filter((s) => s.by === 'sim/backup').length);
    // Back on the primary within a couple of seconds of its recovery (at 1 s), and it stays there.
    const firstBack = served.find((s) => s.at > 1_000 && s.by === 'sim/primary');
    expect(firstBack).toBeDefined();
    expect(firstBack!.at).toBeLessThan(1_000 + 2_000);
    expect(served.filter((s) => s.at > firstBack!.at).every((s) => s.by === 'sim/primary')).toBe(true);
  });

  it('every target failing under concurrent load: upstream calls stay within the ladder plus the retry budget', async () => {
    const h = await start({
      simulators: { sim: { a: { kind: 'status', status: 500 }, b: { kind: 'status', status: 502 } } },
      routes: { chat: { ladder: [{ targets: ['sim/a'], retries: 3 }, { targets: ['sim/b'], retries: 3 }] } },
    });
    const clients = 40;
    const outs = await Promise.all(Array.from({ length: clients }, () => chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES })));
    for (const out of outs) {
      expect(out.status).toBe(503);
      expect(out.headers.get('x-should-retry')).toBe('false');
    }
    // Without a budget: 40 × 2 rungs × 4 attempts = 320 calls. With it: one attempt per rung per
    // request at most, plus the budget's floor of 10 retries (20% of 40 first attempts is less).
    expect(h.sim.calls.length).toBeLessThanOrEqual(clients * 2 + 10);
  });

  it('hedges are paid from the same budget: a slow, failing ladder under load makes at most one call per candidate, and hedges + retries stay within it', async () => {
    const h = await start({
      simulators: { sim: { a1: { kind: 'slow_first_token', delay_ms: 5_000 }, a2: { kind: 'slow_first_token', delay_ms: 5_000 }, b: { kind: 'status', status: 500 } } },
      routes: { chat: { ladder: [{ targets: ['sim/a1', 'sim/a2'], hedge_after_ms: 50 }, { targets: ['sim/b'], retries: 3 }] } },
    });
    const clients = 40;
    const outs = await Promise.all(Array.from({ length: clients }, () => chat(h.client, 'stream', { model: 'chat', messages: USER_MESSAGES })));
    for (const out of outs) expect(out.status).toBe(503);
    const records = await pollFor(() => h.records.length >= clients && h.records, 5_000, 'every request record');
    const extra = records.flatMap((r) => r.attempts).filter((a) => a.reason === 'hedge' || a.reason === 'retry').length;
    // Every upstream call, whatever started it, is one the simulator saw.
    expect(h.sim.calls.length).toBe(records.flatMap((r) => r.attempts).filter((a) => a.outcome !== 'skipped').length);
    // Budget: 20% of 40 first attempts is 8, the floor 10 — at most 10 hedges and retries in all.
    expect(extra).toBeGreaterThan(0);
    expect(extra).toBeLessThanOrEqual(10);
    // A hedge partner is never called again: at most one call per candidate, plus the budgeted retries.
    expect(h.sim.calls.length).toBeLessThanOrEqual(clients * 3 + 10);
    expect(records.some((r) => r.attempts.some((a) => a.hedgeSkipped === 'retry budget exhausted'))).toBe(true);
  });
});
