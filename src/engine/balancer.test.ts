import { describe, expect, it } from 'vitest';
import { UpstreamFailure } from '../canonical/failure.js';
import { foldLatency } from '../state/balance-state.js';
import { MemoryStateStore } from '../state/memory.js';
import type { StateStore } from '../state/state-store.js';
import { LATENCY_ALPHA, LATENCY_STALE_MS, LoadBalancer, MAX_SESSION_KEY_LENGTH, sessionKey, type BalancedPlan } from './balancer.js';
import { FakeClock } from './fake-clock.js';
import type { BalancedTarget, Strategy } from './load-balance.js';
import { DEFAULT_TIMEOUTS, type LiveRung, type Rung, type TargetRef } from './route.js';
import { AttemptWatch } from './watchdog.js';

const ref = (id: string): TargetRef => ({ id, provider: id.split('/')[0] as string, model: id.split('/')[1] as string });

function rung(ids: string[], strategy?: Strategy, config: Record<string, BalancedTarget> = {}): LiveRung<TargetRef> {
  const out: LiveRung<TargetRef> = { type: 'targets', targets: ids.map(ref), timeouts: DEFAULT_TIMEOUTS, retries: 0, origin: 'route' };
  if (strategy) out.balance = { strategy, targets: new Map(Object.entries(config)) };
  return out;
}

function plan(ladder: Rung<TargetRef>[], affinity = false): BalancedPlan<TargetRef> {
  return { name: 'chat', ladder, ...(affinity ? { affinity: { ttlMs: 60_000 } } : {}) };
}

/** A memory store that counts balance reads. */
function counting(): { store: StateStore; reads: Parameters<StateStore['readBalance']>[0][] } {
  const store = new MemoryStateStore();
  const reads: Parameters<StateStore['readBalance']>[0][] = [];
  const read = store.readBalance.bind(store);
  store.readBalance = (query) => {
    reads.push(query);
    return read(query);
  };
  return { store, reads };
}

function watch(clock: FakeClock): AttemptWatch {
  return new AttemptWatch(clock, DEFAULT_TIMEOUTS, clock.now() + 600_000, true, new AbortController().signal);
}

async function loadOf(store: StateStore, id: string, now: number) {
  return (await store.readBalance({ targets: [id], cursors: [], now })).targets[id];
}

describe('LoadBalancer.prepare: one read per request, or none', () => {
  it('reads nothing when no rung has two targets, or no multi-target rung reads load and there is no session', async () => {
    const clock = new FakeClock();
    const { store, reads } = counting();
    const balancer = new LoadBalancer(store, clock);
    await balancer.prepare(plan([rung(['a/m']), rung(['b/m'], 'least_busy')], true), 'alice', clock.now());
    await balancer.prepare(plan([rung(['a/m', 'b/m']), rung(['c/m', 'd/m'], 'cheapest', { 'c/m': { weight: 1, price: { inputPerMTok: 1, outputPerMTok: 2 } }, 'd/m': { weight: 1, price: { inputPerMTok: 3, outputPerMTok: 4 } } })], true), undefined, clock.now());
    expect(reads).toEqual([]);
  });

  it('asks in one read for the load of load-reading rungs, the cursors of round-robin rungs and the session', async () => {
    const clock = new FakeClock();
    const { store, reads } = counting();
    const balancer = new LoadBalancer(store, clock);
    const ladder = [rung(['a/m', 'b/m'], 'least_latency'), rung(['c/m', 'd/m'], 'round_robin'), rung(['e/m', 'f/m']), { type: 'static' as const, content: 'busy' }];
    const first = await balancer.prepare(plan(ladder, true), 'alice', clock.now());
    expect(reads).toEqual([{ targets: ['a/m', 'b/m'], cursors: ['chat#1'], affinity: { scope: 'chat', key: 'alice' }, now: clock.now() }]);
    expect(first.signals.rungs[1]?.cursor).toBe(0);
    expect(first.signals.rungs[3]).toBeUndefined();
    const second = await balancer.prepare(plan(ladder, false), 'alice', clock.now());
    expect(reads[1]).toEqual({ targets: ['a/m', 'b/m'], cursors: ['chat#1'], now: clock.now() });
    expect(second.signals.rungs[1]?.cursor).toBe(1);
    expect(second.session).toBeUndefined();
  });

  it('normalises signals: weights and prices from config, stale latency unknown, headroom as a share with configured limits', async () => {
    const clock = new FakeClock();
    const store = new MemoryStateStore();
    const balancer = new LoadBalancer(store, clock);
    const t0 = clock.now();
    await store.endAttempt('a/m', { ttftMs: 80, alpha: LATENCY_ALPHA, now: t0, headroom: { at: t0, windows: { requests: { remaining: 30 } } } });
    await store.endAttempt('b/m', { ttftMs: 20, alpha: LATENCY_ALPHA, now: t0 - LATENCY_STALE_MS - 1 });
    await store.beginAttempt('b/m');
    const ladder = [rung(['a/m', 'b/m'], 'headroom', { 'a/m': { weight: 3, price: { inputPerMTok: 1, outputPerMTok: 4 }, limits: { rpm: 120 } } })];
    const { signals } = await balancer.prepare(plan(ladder), undefined, t0);
    expect(signals.rungs[0]?.targets.get('a/m')).toEqual({ weight: 3, price: 5, latencyMs: 80, inFlight: 0, headroom: 0.25 });
    expect(signals.rungs[0]?.targets.get('b/m')).toEqual({ weight: 1, inFlight: 1 });
  });

  it('returns the session’s sticky target', async () => {
    const clock = new FakeClock();
    const store = new MemoryStateStore();
    const balancer = new LoadBalancer(store, clock);
    await store.setAffinity('chat', 'alice', 'b/m', 60_000, clock.now());
    const prepared = await balancer.prepare(plan([rung(['a/m', 'b/m'])], true), 'alice', clock.now());
    expect(prepared.signals.sticky).toBe('b/m');
    expect(prepared.session).toEqual({ scope: 'chat', key: 'alice', ttlMs: 60_000, current: { targetId: 'b/m', expiresAt: clock.now() + 60_000 } });
  });
});

describe('LoadBalancer.track: in flight until the attempt is over, then its latency and headroom', () => {
  it('counts an attempt in flight from dispatch until its watch is disposed, and folds its time to first output into the EWMA', async () => {
    const clock = new FakeClock();
    const store = new MemoryStateStore();
    const balancer = new LoadBalancer(store, clock);
    const first = watch(clock);
    balancer.track('a/m', first);
    expect(await loadOf(store, 'a/m', clock.now())).toEqual({ inFlight: 1 });
    await clock.advance(100);
    first.markOutput();
    await clock.advance(5_000); // a long stream: still in flight
    expect((await loadOf(store, 'a/m', clock.now()))?.inFlight).toBe(1);
    first.dispose();
    first.dispose(); // once only
    expect(await loadOf(store, 'a/m', clock.now())).toEqual({ inFlight: 0, latency: { ms: 100, samples: 1, at: clock.now() } });

    const second = watch(clock);
    balancer.track('a/m', second);
    await clock.advance(200);
    second.markOutput();
    second.dispose();
    const expected = foldLatency({ ms: 100, samples: 1, at: 0 }, 200, LATENCY_ALPHA, clock.now());
    expect((await loadOf(store, 'a/m', clock.now()))?.latency).toEqual(expected);
    expect(expected.ms).toBeCloseTo(130);
  });

  it('counts a wait that timed out before any output as a sample (a lower bound), and no sample for other failures', async () => {
    const clock = new FakeClock();
    const store = new MemoryStateStore();
    const balancer = new LoadBalancer(store, clock);
    const silent = watch(clock);
    balancer.track('a/m', silent);
    await clock.advance(400);
    silent.abort(new UpstreamFailure({ kind: 'timeout_first_token', message: 'no output' }));
    silent.dispose();
    expect((await loadOf(store, 'a/m', clock.now()))?.latency?.ms).toBe(400);

    const broken = watch(clock);
    balancer.track('b/m', broken);
    await clock.advance(10);
    broken.abort(new UpstreamFailure({ kind: 'server_error', message: '500' }));
    broken.dispose();
    expect(await loadOf(store, 'b/m', clock.now())).toEqual({ inFlight: 0 });
  });

  it('records the rate-limit headroom the answer’s headers reported', async () => {
    const clock = new FakeClock();
    const store = new MemoryStateStore();
    const balancer = new LoadBalancer(store, clock);
    const w = watch(clock);
    balancer.track('a/m', w);
    w.markHeaders({ 'x-ratelimit-limit-requests': '100', 'x-ratelimit-remaining-requests': '40' });
    w.markOutput();
    w.dispose();
    expect((await loadOf(store, 'a/m', clock.now()))?.headroom).toEqual({ at: clock.now(), windows: { requests: { remaining: 40, limit: 100 } } });
  });
});

describe('LoadBalancer.served: the session mapping', () => {
  it('maps the session when another target served, and refreshes a mapping only past half its TTL', async () => {
    const clock = new FakeClock();
    const store = new MemoryStateStore();
    let writes = 0;
    const set = store.setAffinity.bind(store);
    store.setAffinity = (...args) => {
      writes++;
      return set(...args);
    };
    const balancer = new LoadBalancer(store, clock);
    const p = plan([rung(['a/m', 'b/m'])], true);
    const sticky = async (): Promise<string | undefined> => (await balancer.prepare(p, 'alice', clock.now())).signals.sticky;

    balancer.served(await balancer.prepare(p, 'alice', clock.now()), 'a/m', clock.now());
    expect([await sticky(), writes]).toEqual(['a/m', 1]);
    balancer.served(await balancer.prepare(p, 'alice', clock.now()), 'a/m', clock.now());
    expect(writes).toBe(1); // same target, fresh mapping: no write
    await clock.advance(30_001);
    balancer.served(await balancer.prepare(p, 'alice', clock.now()), 'a/m', clock.now());
    expect(writes).toBe(2); // past half the TTL: slid forward
    balancer.served(await balancer.prepare(p, 'alice', clock.now()), 'b/m', clock.now());
    expect([await sticky(), writes]).toEqual(['b/m', 3]);
  });

  it('keeps nothing for a request without a session or a route without affinity', async () => {
    const clock = new FakeClock();
    const store = new MemoryStateStore();
    const balancer = new LoadBalancer(store, clock);
    balancer.served(await balancer.prepare(plan([rung(['a/m', 'b/m'])], true), undefined, clock.now()), 'a/m', clock.now());
    balancer.served(await balancer.prepare(plan([rung(['a/m', 'b/m'])], false), 'alice', clock.now()), 'a/m', clock.now());
    expect((await balancer.prepare(plan([rung(['a/m', 'b/m'])], true), 'alice', clock.now())).signals.sticky).toBeUndefined();
  });
});

describe('sessionKey', () => {
  it('prefers the x-understudy-session header over the body’s user, and skips blank or overlong keys', () => {
    expect(sessionKey('s-1', 'alice')).toBe('s-1');
    expect(sessionKey(undefined, 'alice')).toBe('alice');
    expect(sessionKey('  ', 'alice')).toBe('alice');
    expect(sessionKey(undefined, undefined)).toBeUndefined();
    expect(sessionKey('x'.repeat(MAX_SESSION_KEY_LENGTH + 1), undefined)).toBeUndefined();
    expect(sessionKey(undefined, 'x'.repeat(MAX_SESSION_KEY_LENGTH))).toHaveLength(MAX_SESSION_KEY_LENGTH);
  });
});
