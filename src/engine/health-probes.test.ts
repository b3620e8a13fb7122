import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../canonical/chat.js';
import { FAILURE_KINDS, type FailureKind } from '../canonical/failure.js';
import type { CallOptions, Target, UpstreamCall } from '../providers/target.js';
import type { BreakerState } from '../state/breaker-state.js';
import { MemoryStateStore } from '../state/memory.js';
import { createLogger } from '../telemetry/logger.js';
import { ScriptedTarget, type Step } from './__fixtures__/scripted-target.js';
import { breakerConfig } from './breaker.js';
import { CircuitBreakers } from './breakers.js';
import { FakeClock } from './fake-clock.js';
import {
  DEFAULT_HEALTH_PROBE_CONFIG,
  healthProbeConfig,
  HealthProber,
  probesOpenedBy,
  routeTargets,
  wantsHealthProbe,
  type HealthProbeConfig,
} from './health-probes.js';
import type { Route, Rung } from './route.js';

const INTERVAL = 1_000;

/** A scripted target that also keeps what each call was asked. */
class RecordingTarget extends ScriptedTarget {
  readonly requests: ChatRequest[] = [];
  readonly options: CallOptions[] = [];

  override call(request: ChatRequest, options: CallOptions): Promise<UpstreamCall> {
    this.requests.push(request);
    this.options.push(options);
    return super.call(request, options);
  }
}

function setup(scripts: Record<string, Step[]>, probes: Partial<HealthProbeConfig> = {}) {
  const clock = new FakeClock();
  const store = new MemoryStateStore();
  const breakers = new CircuitBreakers(store, breakerConfig({ cooldownMs: 30_000, successThreshold: 1 }));
  const targets = Object.entries(scripts).map(([id, steps]) => new RecordingTarget(id, clock, steps));
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const prober = new HealthProber({ targets, breakers, clock, logger, config: healthProbeConfig({ intervalMs: INTERVAL, timeoutMs: 500, ...probes }) });
  /** Opens `id`'s circuit with five failures of `kind` in a row. */
  const open = async (id: string, kind: FailureKind = 'overloaded') => {
    for (let i = 0; i < 5; i++) await breakers.record(id, { ok: false, kind }, clock.now(), false);
    const state = await breakers.read(id);
    expect(state.phase).toBe('open');
    return state;
  };
  const target = (id: string) => targets.find((t) => t.id === id) as RecordingTarget;
  return { clock, store, breakers, targets, target, logs, prober, open };
}

describe('probesOpenedBy: which open circuits are worth a paid probe', () => {
  const table: Record<FailureKind, boolean> = {
    rate_limited: false,
    quota_exhausted: false,
    overloaded: true,
    server_error: true,
    connection: true,
    timeout_headers: true,
    timeout_first_token: true,
    stream_stalled: true,
    stream_cut: true,
    malformed_response: true,
    empty_output: true,
    contract_violation: false,
    context_window: false,
    content_policy: false,
    upstream_auth: true,
    model_not_found: true,
    unsupported_parameter: false,
    invalid_request: false,
    budget_exceeded: false,
    deadline_exceeded: false,
    client_cancelled: false,
  };

  it.each(FAILURE_KINDS.map((kind) => [kind, table[kind]] as const))('%s → %s', (kind, probes) => {
    expect(probesOpenedBy(kind)).toBe(probes);
  });

  it('wants a probe only for an open breaker inside its open period', () => {
    const T0 = 1_700_000_000_000;
    const open: BreakerState = { phase: 'open', reason: 'consecutive_failures', kind: 'server_error', openedAt: T0, reopensAt: T0 + 100, cooldownMs: 100 };
    expect(wantsHealthProbe(open, T0 + 99)).toBe(true);
    expect(wantsHealthProbe(open, T0 + 100)).toBe(false);
    expect(wantsHealthProbe({ ...open, kind: 'rate_limited' }, T0)).toBe(false);
    expect(wantsHealthProbe({ phase: 'closed', outcomes: ['failed'], consecutiveFailures: 1 }, T0)).toBe(false);
    expect(wantsHealthProbe({ phase: 'half_open', reason: 'server_error', kind: 'server_error', cooldownMs: 1, probeLeases: [], successes: 0 }, T0)).toBe(false);
  });
});

describe('healthProbeConfig', () => {
  it('fills defaults', () => {
    expect(healthProbeConfig()).toEqual(DEFAULT_HEALTH_PROBE_CONFIG);
    expect(DEFAULT_HEALTH_PROBE_CONFIG).toEqual({ intervalMs: 30_000, timeoutMs: 10_000, prompt: 'ping', maxTokens: 1 });
    expect(healthProbeConfig({ intervalMs: 5 })).toEqual({ ...DEFAULT_HEALTH_PROBE_CONFIG, intervalMs: 5 });
  });

  it.each([
    [{ intervalMs: 0 }, 'breaker.probes.intervalMs'],
    [{ timeoutMs: 1.5 }, 'breaker.probes.timeoutMs'],
    [{ maxTokens: -1 }, 'breaker.probes.maxTokens'],
    [{ prompt: '' }, 'breaker.probes.prompt'],
  ])('rejects %o naming %s', (overrides, key) => {
    expect(() => healthProbeConfig(overrides)).toThrow(key);
  });
});

describe('routeTargets', () => {
  it('lists the live rungs’ targets of every route once, and nothing of degradation rungs', () => {
    const clock = new FakeClock();
    const make = (id: string): Target => new ScriptedTarget(id, clock, [{ text: 'x' }]);
    const [a, b, c] = [make('p/a'), make('p/b'), make('q/c')];
    const live = (...targets: Target[]): Rung => ({ type: 'targets', targets, timeouts: { headersMs: 1, firstTokenMs: 1, stallMs: 1, totalMs: 1 }, retries: 0, origin: 'route' });
    const route = (name: string, ladder: Rung[]) => ({ name, ladder }) as Route;
    const routes = [route('one', [live(a, b), { type: 'static', content: 'busy' }]), route('two', [live(b), live(c, a), { type: 'cache', maxAgeMs: 1, maxEntries: 1 }])];
    expect(routeTargets(routes).map((t) => t.id)).toEqual(['p/a', 'p/b', 'q/c']);
  });
});

describe('HealthProber', () => {
  it('never probes a healthy target (probes cost money)', async () => {
    const ctx = setup({ 'p/a': [{ text: 'pong' }] });
    await ctx.breakers.record('p/a', { ok: false, kind: 'server_error' }, ctx.clock.now(), false); // closed, one failure counted
    ctx.prober.start();
    await ctx.clock.advance(INTERVAL * 10);
    expect(ctx.target('p/a').calls).toBe(0);
    expect(ctx.logs).toEqual([]);
    await ctx.prober.stop();
  });

  it('probes an open target each interval with one small non-streaming request; a failure leaves the circuit as it was', async () => {
    const ctx = setup({ 'p/a': [{ fail: { kind: 'server_error', status: 500 } }] }, { prompt: 'are you up?', maxTokens: 2 });
    const opened = await ctx.open('p/a');
    ctx.prober.start();
    await ctx.clock.advance(INTERVAL - 1);
    expect(ctx.target('p/a').calls).toBe(0); // the first round is one interval after start
    await ctx.clock.advance(1);
    expect(ctx.target('p/a').calls).toBe(1);
    await ctx.clock.advance(INTERVAL * 2);
    expect(ctx.target('p/a').calls).toBe(3);
    expect(ctx.target('p/a').requests[0]).toEqual({ model: 'a', messages: [{ role: 'user', content: 'are you up?' }], max_tokens: 2, stream: false });
    expect(ctx.target('p/a').options[0]?.stream).toBe(false);
    expect(await ctx.breakers.read('p/a')).toEqual(opened); // neither extended nor counted
    expect(ctx.logs).toHaveLength(3);
    expect(ctx.logs[0]).toMatchObject({ level: 40, target: 'p/a', outcome: 'failed', kind: 'server_error', status: 500, msg: 'health probe failed: circuit stays open' });
    await ctx.prober.stop();
  });

  it('a probe that answers ends the open period early: the breaker goes half-open and a real request is admitted as its probe', async () => {
    const ctx = setup({ 'p/a': [{ fail: { kind: 'overloaded', status: 503 } }, { text: 'pong' }], 'p/b': [{ text: 'pong' }] });
    const opened = await ctx.open('p/a');
    ctx.prober.start();
    await ctx.clock.advance(INTERVAL); // still down
    expect((await ctx.breakers.read('p/a')).phase).toBe('open');
    await ctx.clock.advance(INTERVAL); // recovered
    expect(await ctx.breakers.read('p/a')).toEqual({ phase: 'half_open', reason: 'consecutive_failures', kind: 'overloaded', cooldownMs: 30_000, probeLeases: [], successes: 0 });
    expect(ctx.clock.now()).toBeLessThan(opened.phase === 'open' ? opened.reopensAt : 0);
    expect(await ctx.breakers.admit('p/a', ctx.clock.now())).toEqual({ admitted: true, probe: true, state: 'half_open' });
    expect(ctx.logs.at(-1)).toMatchObject({ level: 30, target: 'p/a', outcome: 'ok', half_open: true, msg: 'health probe answered: circuit half-open' });
    // Half-open now: no more probes; the healthy p/b never had one.
    await ctx.clock.advance(INTERVAL * 3);
    expect(ctx.target('p/a').calls).toBe(2);
    expect(ctx.target('p/b').calls).toBe(0);
    await ctx.prober.stop();
  });

  it('never overlaps probes of one target: a slow probe makes the next rounds skip it until it times out', async () => {
    const ctx = setup({ 'p/a': [{ hang: true }, { text: 'pong' }] }, { timeoutMs: 2_500 });
    await ctx.open('p/a');
    ctx.prober.start();
    await ctx.clock.advance(INTERVAL);
    expect(ctx.target('p/a').calls).toBe(1);
    await ctx.clock.advance(INTERVAL * 2); // t = 3000: still in flight at 2000 and 3000
    expect(ctx.target('p/a').calls).toBe(1);
    await ctx.clock.advance(500); // t = 3500: the timeout (1000 + 2500) aborted it
    expect(ctx.target('p/a').aborted).toBe(1);
    expect(ctx.logs).toEqual([expect.objectContaining({ level: 40, target: 'p/a', outcome: 'failed', kind: 'timeout', latency_ms: 2_500 })]);
    await ctx.clock.advance(500); // t = 4000: the next round probes again
    expect(ctx.target('p/a').calls).toBe(2);
    expect((await ctx.breakers.read('p/a')).phase).toBe('half_open');
    await ctx.prober.stop();
  });

  it('does not probe a circuit opened by rate limits (the provider named the wait)', async () => {
    const ctx = setup({ 'p/a': [{ text: 'pong' }] });
    await ctx.open('p/a', 'rate_limited');
    await ctx.prober.tick();
    expect(ctx.target('p/a').calls).toBe(0);
  });

  it('probes only while the period is open, and only the open targets', async () => {
    const ctx = setup({ 'p/a': [{ text: 'pong' }], 'p/b': [{ text: 'pong' }] });
    await ctx.open('p/a');
    await ctx.clock.advance(30_000); // p/a's period is over: the next request probes it anyway
    await ctx.open('p/b');
    await ctx.prober.tick();
    expect(ctx.target('p/a').calls).toBe(0);
    expect(ctx.target('p/b').calls).toBe(1);
  });

  it('stop() aborts a probe in flight without logging it, leaves no timer, and no round runs after', async () => {
    const ctx = setup({ 'p/a': [{ hang: true }] }, { timeoutMs: 60_000 });
    await ctx.open('p/a');
    ctx.prober.start();
    await ctx.clock.advance(INTERVAL);
    expect(ctx.target('p/a').calls).toBe(1);
    await ctx.prober.stop();
    expect(ctx.target('p/a').aborted).toBe(1);
    expect(ctx.clock.timers).toBe(0);
    await ctx.clock.advance(INTERVAL * 5);
    expect(ctx.target('p/a').calls).toBe(1);
    expect(ctx.logs).toEqual([]);
  });

  it('a probe success for an open period that has since been replaced changes nothing', async () => {
    const ctx = setup({ 'p/a': [{ hang: true }] }, { timeoutMs: 60_000 });
    const first = await ctx.open('p/a');
    const probing = ctx.prober.tick();
    // While the probe is out, the breaker goes half-open (its period is over) and a real probe fails: open again.
    await ctx.clock.advance(30_000);
    await ctx.breakers.admit('p/a', ctx.clock.now());
    await ctx.breakers.record('p/a', { ok: false, kind: 'server_error' }, ctx.clock.now(), true);
    const second = await ctx.breakers.read('p/a');
    expect(second).toMatchObject({ phase: 'open', cooldownMs: 60_000 });
    expect(first.phase === 'open' && second.phase === 'open' && first.openedAt !== second.openedAt).toBe(true);
    expect(await ctx.breakers.healthProbeSucceeded('p/a', first.phase === 'open' ? first.openedAt : 0, ctx.clock.now())).toBeUndefined();
    expect(await ctx.breakers.read('p/a')).toEqual(second);
    await ctx.prober.stop();
    await probing;
  });
});
