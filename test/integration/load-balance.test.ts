/**
 * Load balancing inside a rung and session affinity, over real sockets: the official OpenAI SDK,
 * the gateway, and a simulator serving two models (`sim/a`, `sim/b`) of one rung. Randomness is
 * injected (`startGateway(config, { random })`), so every ordering here is deterministic.
 */
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../src/simulator/index.js';
import { USER_MESSAGES, chat, expectServed, pollFor, useHarness, type Harness, type Mode } from './harness.js';

const start = useHarness();

const A_TEXT = 'Target a answers.';
const B_TEXT = 'Target b answers.';
const OK_A: Scenario = { kind: 'ok', text: A_TEXT };
const OK_B: Scenario = { kind: 'ok', text: B_TEXT };

interface Setup {
  a?: Scenario;
  b?: Scenario;
  /** The rung (merged over `{ targets: [sim/a, sim/b] }`). */
  rung?: Record<string, unknown>;
  /** More rungs after the balanced one. */
  more?: Record<string, unknown>[];
  route?: Record<string, unknown>;
  random?: () => number;
  models?: Record<string, unknown>;
  extraModels?: Record<string, Scenario>;
}

function balanced(setup: Setup): Promise<Harness> {
  return start({
    simulators: { sim: { a: setup.a ?? OK_A, b: setup.b ?? OK_B, ...setup.extraModels } },
    routes: { chat: { ladder: [{ targets: ['sim/a', 'sim/b'], ...setup.rung }, ...(setup.more ?? [])], ...setup.route } },
    gatewayOptions: { random: setup.random ?? (() => 0) },
    ...(setup.models ? { providerOptions: { sim: { models: setup.models } } } : {}),
  });
}

/** Sends one request and returns who served it (asserting it was served at all). */
async function servedBy(h: Harness, mode: Mode = 'non-stream', extra: { user?: string; headers?: Record<string, string> } = {}): Promise<string> {
  const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES, ...(extra.user ? { user: extra.user } : {}) }, extra.headers ? { headers: extra.headers } : {});
  expect(out.error, out.error?.message).toBeUndefined();
  expect(out.streamError).toBeUndefined();
  return out.headers.get('x-understudy-served-by') ?? '(none)';
}

async function sequence(h: Harness, n: number, send: (i: number) => Promise<string> = () => servedBy(h)): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await send(i));
  return out;
}

/** mulberry32: a small seeded PRNG, so "random" orderings are reproducible. */
function seeded(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('load balancing inside a rung', () => {
  it('round_robin alternates between the targets, streaming or not', async () => {
    const h = await balanced({ rung: { strategy: 'round_robin' } });
    const served = await sequence(h, 6, (i) => servedBy(h, i % 3 === 0 ? 'stream' : 'non-stream'));
    expect(served).toEqual(['sim/a', 'sim/b', 'sim/a', 'sim/b', 'sim/a', 'sim/b']);
    expect(h.sim.callsFor('a')).toHaveLength(3);
    expect(h.sim.callsFor('b')).toHaveLength(3);
  });

  it('weighted (the default) follows the weights over many requests', async () => {
    const h = await balanced({ rung: { targets: [{ target: 'sim/a', weight: 3 }, 'sim/b'] }, random: seeded(20260301) });
    const served = await sequence(h, 200);
    const a = served.filter((s) => s === 'sim/a').length;
    // Expected 150 of 200 (3:1), within three standard deviations (±18); the seeded draw makes the run reproducible.
    expect(a).toBeGreaterThanOrEqual(132);
    expect(a).toBeLessThanOrEqual(168);
    expect(served).toContain('sim/b');
  });

  it('least_busy sends new requests to the idle target while the other is busy with a slow one', async () => {
    const h = await balanced({ a: { kind: 'slow_first_token', delay_ms: 600, text: A_TEXT }, rung: { strategy: 'least_busy', timeouts: { first_token_ms: 5_000 } } });
    // Both idle: the tie goes to the first of the (injected) random order, sim/a, which is slow.
    const slow = chat(h.client, 'stream', { model: 'chat', messages: USER_MESSAGES });
    await pollFor(() => h.sim.callsFor('a').length === 1, 2_000, 'the slow request to reach sim/a');
    expect(await sequence(h, 3, (i) => servedBy(h, i % 2 === 0 ? 'non-stream' : 'stream'))).toEqual(['sim/b', 'sim/b', 'sim/b']);
    expectServed(await slow, { servedBy: 'sim/a', model: 'a', text: A_TEXT, attempts: 1, reason: undefined });
    // The stream ended, so sim/a is idle again and wins the tie.
    h.sim.setModel('a', OK_A);
    expect(await servedBy(h)).toBe('sim/a');
  });

  it('least_latency moves to the faster target once both are measured', async () => {
    const h = await balanced({ a: { kind: 'ok', text: A_TEXT, latency_ms: 120 }, rung: { strategy: 'least_latency' } });
    // 1st: neither measured, the tie goes to sim/a (slow). 2nd: sim/b is unmeasured, so it is tried. Then the faster wins.
    expect(await sequence(h, 6)).toEqual(['sim/a', 'sim/b', 'sim/b', 'sim/b', 'sim/b', 'sim/b']);
  });

  it('cheapest picks the cheaper target, and falls back to the dearer one when it fails', async () => {
    const h = await balanced({
      rung: { strategy: 'cheapest', retries: 0 },
      models: { a: { price: { input_per_mtok: 2.5, output_per_mtok: 10 } }, b: { price: { input_per_mtok: 0.15, output_per_mtok: 0.6 } } },
    });
    expect(await sequence(h, 4)).toEqual(['sim/b', 'sim/b', 'sim/b', 'sim/b']);
    h.sim.setModel('b', { kind: 'status', status: 500 });
    const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/a', model: 'a', text: A_TEXT, attempts: 2, reason: 'server_error' });
  });
});

describe('session affinity', () => {
  it('sticks a session to the target that served it, by the request’s user', async () => {
    const h = await balanced({ rung: { strategy: 'round_robin' } });
    const served = await sequence(h, 6, (i) => servedBy(h, i % 2 === 0 ? 'non-stream' : 'stream', { user: i % 2 === 0 ? 'alice' : 'bob' }));
    // alice took turn 0 (sim/a), bob turn 1 (sim/b); from then on each sticks, whatever the cursor says.
    expect(served).toEqual(['sim/a', 'sim/b', 'sim/a', 'sim/b', 'sim/a', 'sim/b']);
    expect(await sequence(h, 3, () => servedBy(h, 'non-stream', { user: 'alice' }))).toEqual(['sim/a', 'sim/a', 'sim/a']);
    // Without a session, the rung still alternates.
    const anonymous = await sequence(h, 2);
    expect(new Set(anonymous)).toEqual(new Set(['sim/a', 'sim/b']));
  });

  it('sticks by the x-understudy-session header, which wins over user', async () => {
    const h = await balanced({ rung: { strategy: 'round_robin' } });
    const served = await sequence(h, 4, (i) => servedBy(h, 'non-stream', { user: `user-${i}`, headers: { 'x-understudy-session': 'conversation-42' } }));
    expect(served).toEqual(['sim/a', 'sim/a', 'sim/a', 'sim/a']);
  });

  it('moves to the target that served when the sticky one fails, and stays there', async () => {
    const h = await balanced({ rung: { strategy: 'round_robin', retries: 0 } });
    expect(await sequence(h, 2, () => servedBy(h, 'non-stream', { user: 'alice' }))).toEqual(['sim/a', 'sim/a']);
    h.sim.setModel('a', { kind: 'status', status: 500 });
    const out = await chat(h.client, 'stream', { model: 'chat', messages: USER_MESSAGES, user: 'alice' });
    expectServed(out, { servedBy: 'sim/b', model: 'b', text: B_TEXT, attempts: 2, reason: 'server_error' });
    h.sim.setModel('a', OK_A);
    expect(await sequence(h, 3, () => servedBy(h, 'non-stream', { user: 'alice' }))).toEqual(['sim/b', 'sim/b', 'sim/b']);
  });

  it('never crosses rungs: a session served by a lower rung starts at the top again', async () => {
    const h = await balanced({ rung: { strategy: 'round_robin', retries: 0 }, more: [{ targets: ['sim/c', 'sim/d'] }], extraModels: { c: { kind: 'ok' }, d: { kind: 'ok' } } });
    h.sim.setModel('a', { kind: 'status', status: 503 });
    h.sim.setModel('b', { kind: 'status', status: 503 });
    const low = await servedBy(h, 'non-stream', { user: 'alice' });
    expect(['sim/c', 'sim/d']).toContain(low);
    h.sim.setModel('a', OK_A);
    h.sim.setModel('b', OK_B);
    const next = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES, user: 'alice' });
    expect(['sim/a', 'sim/b']).toContain(next.headers.get('x-understudy-served-by'));
    expect(next.headers.get('x-understudy-attempts')).toBe('1');
  });

  it('can be turned off per route', async () => {
    const h = await balanced({ rung: { strategy: 'round_robin' }, route: { affinity: { enabled: false } } });
    expect(await sequence(h, 4, () => servedBy(h, 'non-stream', { user: 'alice' }))).toEqual(['sim/a', 'sim/b', 'sim/a', 'sim/b']);
  });
});
