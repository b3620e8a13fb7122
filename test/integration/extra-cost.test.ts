/**
 * The cost cap on resilience: attempts after a request's first are priced before they start, and
 * one that would take the request past `max_extra_cost` is skipped — over real sockets.
 */
import { describe, expect, it } from 'vitest';
import { attemptCostEstimate, extraCostCap } from '../../src/engine/extra-cost.js';
import { chat, expectHttpError, USER_MESSAGES, useHarness } from './harness.js';

const start = useHarness();

// Prices per 1M tokens: `dear` costs about a unit per prompt token, `cheap` next to nothing.
const models = {
  primary: { price: { input_per_mtok: 10, output_per_mtok: 10 } },
  dear: { price: { input_per_mtok: 1_000_000, output_per_mtok: 1_000_000 } },
  cheap: { price: { input_per_mtok: 0.1, output_per_mtok: 0.4 } },
};

function setup(route: Record<string, unknown> = {}) {
  return start({
    simulators: { sim: { primary: { kind: 'status', status: 503 }, dear: { kind: 'ok', text: 'dear answer' }, cheap: { kind: 'ok', text: 'cheap answer' } } },
    providerOptions: { sim: { models } },
    defaults: { retries: 0 },
    routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/dear' }, { targets: 'sim/cheap' }], ...route } },
  });
}

describe('max_extra_cost', () => {
  it('skips a fallback that would cost more than the cap; a cheaper one further down serves', async () => {
    const h = await setup({ max_extra_cost: 0.5 });
    const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
    expect(out.text).toBe('cheap answer');
    expect(out.headers.get('x-understudy-served-by')).toBe('sim/cheap');
    expect(out.headers.get('x-understudy-skipped')).toMatch(/sim\/dear \(it would cost about [\d.]+ more, past max_extra_cost 0\.5/);
    expect(h.sim.callsFor('dear')).toHaveLength(0);
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.attempts.find((a) => a.target === 'sim/dear')?.failure?.kind).toBe('budget_exceeded');
    expect(record.extraCost).toBeGreaterThan(0);
    expect(record.extraCost).toBeLessThan(0.001);
  });

  it('without a cap every fallback may run', async () => {
    const h = await setup();
    const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
    expect(out.headers.get('x-understudy-served-by')).toBe('sim/dear');
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.extraCost).toBeUndefined();
  });

  it('a request lowers the cap with x-understudy-max-extra-cost: 0 allows no attempt that costs anything', async () => {
    const h = await setup({ max_extra_cost: 100 });
    const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES }, { headers: { 'x-understudy-max-extra-cost': '0' } });
    expectHttpError(out, 503, 'all_targets_failed');
    expect(h.sim.callsFor('dear')).toHaveLength(0);
    expect(h.sim.callsFor('cheap')).toHaveLength(0);
  });

  it('a malformed header is a 400 in the API\'s error shape', async () => {
    const h = await setup();
    const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES }, { headers: { 'x-understudy-max-extra-cost': 'lots' } });
    expectHttpError(out, 400, 'invalid_header');
  });
});

describe('extra-cost estimates', () => {
  it('prices prompt tokens at the input price and max_tokens at the output price; unpriced is free', () => {
    expect(attemptCostEstimate({ inputPerMTok: 2, outputPerMTok: 8 }, 1_000_000, 500_000)).toBe(6);
    expect(attemptCostEstimate(undefined, 1_000_000, 1_000_000)).toBe(0);
  });

  it('a request can only lower the route\'s cap', () => {
    expect(extraCostCap(1, 5)).toBe(1);
    expect(extraCostCap(1, 0.2)).toBe(0.2);
    expect(extraCostCap(undefined, 0.2)).toBe(0.2);
    expect(extraCostCap(3, undefined)).toBe(3);
  });
});
