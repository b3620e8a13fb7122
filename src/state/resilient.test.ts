import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adminConnection, closedPort, deleteKeys, testPrefix, TEST_REDIS_URL, waitFor } from './__fixtures__/redis-test-keys.js';
import { TcpProxy } from './__fixtures__/tcp-proxy.js';
import { RedisStateStore, type RedisStateStoreOptions } from './redis.js';
import { ResilientStateStore, type ResilientOptions } from './resilient.js';
import { describeStateStoreContract } from './state-store.contract.js';
import type { StateHealth, StateStore } from './state-store.js';

const REDIS_PORT = Number(new URL(TEST_REDIS_URL).port || 6379);
const MIN = 60_000;
const T0 = Date.now();

let admin: Redis;
const prefixes: string[] = [];
const open: { close(): Promise<void> }[] = [];
const proxies: TcpProxy[] = [];

beforeAll(() => {
  admin = adminConnection();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
  for (const prefix of prefixes.splice(0)) await deleteKeys(admin, prefix);
});
afterAll(async () => {
  await admin.quit();
});

/** Fast timings for tests: a 100 ms command timeout, reconnection attempts at most 100 ms apart. */
function resilient(prefix: string, redis: RedisStateStoreOptions = {}, options: ResilientOptions = {}): ResilientStateStore {
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  const store = new ResilientStateStore(new RedisStateStore({ url: TEST_REDIS_URL, prefix, commandTimeoutMs: 100, maxReconnectDelayMs: 100, ...redis }), { probeIntervalMs: 50, ...options });
  open.push(store);
  return store;
}

function plain(prefix: string): RedisStateStore {
  const store = new RedisStateStore({ url: TEST_REDIS_URL, prefix });
  open.push(store);
  return store;
}

async function proxy(): Promise<TcpProxy> {
  const p = new TcpProxy(REDIS_PORT);
  await p.start();
  proxies.push(p);
  return p;
}

/** Runs `op` and returns its result with how long it took. */
async function timed<T>(op: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await op();
  return { value, ms: performance.now() - started };
}

describeStateStoreContract('resilient (Redis up)', async () => {
  const store = resilient(testPrefix());
  if (!(await store.ready(2_000))) throw new Error(`no Redis at ${TEST_REDIS_URL} (these tests need a running Redis)`);
  return store;
});

describe('ResilientStateStore: Redis unreachable', () => {
  it('answers from local state at once and reports degraded when Redis cannot be reached at all', async () => {
    const store = resilient(testPrefix(), { url: `redis://127.0.0.1:${await closedPort()}` });
    expect(await store.ready(100)).toBe(false);
    const ops: { ms: number }[] = [];
    ops.push(await timed(() => store.setCooldown('p/m', { untilMs: T0 + 5_000, reason: 'rate_limited' })));
    const cooldown = await timed(() => store.getCooldown('p/m', T0));
    ops.push(cooldown);
    expect(cooldown.value).toEqual({ untilMs: T0 + 5_000, reason: 'rate_limited' });
    ops.push(await timed(() => store.compareAndSetBreaker('p/m', 0, { phase: 'closed', outcomes: ['failed'], consecutiveFailures: 1 })));
    ops.push(await timed(() => store.readBalance({ targets: ['p/m'], cursors: ['chat#0'], now: T0 })));
    for (const op of ops) expect(op.ms).toBeLessThan(50);
    expect((await store.getBreaker('p/m'))?.version).toBe(1);
    const health = store.health();
    expect(health).toMatchObject({ backend: 'redis', status: 'degraded' });
    expect(health.detail).toContain('serving from local state (quotas counted per instance)');
  });

  it('on_redis_down local: quotas are enforced on this instance alone while degraded', async () => {
    const store = resilient(testPrefix(), { url: `redis://127.0.0.1:${await closedPort()}` });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await store.consumeQuota('key:k:rpm', 1, 2, MIN, T0));
    expect(results.map((r) => r.allowed)).toEqual([true, true, false]);
  });

  it('on_redis_down refuse: every consume is refused while degraded; other state still works locally', async () => {
    const store = resilient(testPrefix(), { url: `redis://127.0.0.1:${await closedPort()}` }, { onRedisDown: 'refuse' });
    const start = Math.floor(T0 / MIN) * MIN;
    expect(await store.consumeQuota('key:k:rpm', 1, 100, MIN, T0)).toEqual({ allowed: false, used: 0, resetAt: start + MIN });
    expect(await store.tryTakeRetry(['fleet'], { bucket: 1, buckets: 10 }, { ratio: 0, floor: 1 })).toBe(true);
    expect(store.health().detail).toContain('quota consumes refused');
  });
});

describe('ResilientStateStore: losing Redis and getting it back', () => {
  it('falls back when the connection is reset, and returns to shared state by itself when Redis is back', async () => {
    const prefix = testPrefix();
    const p = await proxy();
    const changes: StateHealth['status'][] = [];
    const a = resilient(prefix, { url: `redis://127.0.0.1:${p.port}` }, { onChange: (h) => changes.push(h.status) });
    const b = plain(prefix); // another instance, straight to Redis
    expect(await a.ready(2_000)).toBe(true);
    expect(await b.ready(2_000)).toBe(true);
    expect(a.health()).toEqual({ backend: 'redis', status: 'ok' });

    await b.setCooldown('shared/m', { untilMs: T0 + 60_000, reason: 'overloaded' });
    expect(await a.getCooldown('shared/m', T0)).toBeDefined();

    await p.stop();
    await waitFor(() => a.health().status === 'degraded', 2_000, 'degraded');
    const local = await timed(() => a.setCooldown('local/m', { untilMs: T0 + 60_000, reason: 'rate_limited' }));
    expect(local.ms).toBeLessThan(50);
    expect(await a.getCooldown('local/m', T0)).toBeDefined(); // from local state
    expect(await a.getCooldown('shared/m', T0)).toBeUndefined(); // local state never saw it
    expect(await b.getCooldown('local/m', T0)).toBeUndefined(); // nothing reached Redis

    await p.start(); // same port
    await waitFor(() => a.health().status === 'ok', 3_000, 'back on Redis');
    expect(await a.getCooldown('shared/m', T0)).toBeDefined();
    await b.setCooldown('later/m', { untilMs: T0 + 60_000, reason: 'overloaded' });
    expect(await a.getCooldown('later/m', T0)).toBeDefined();
    expect(changes).toEqual(['degraded', 'ok']);
  });

  it('a hung Redis: one command waits out the timeout, later ones go local at once, and a probe brings it back', async () => {
    const prefix = testPrefix();
    const p = await proxy();
    const a = resilient(prefix, { url: `redis://127.0.0.1:${p.port}` });
    const b = plain(prefix);
    expect(await a.ready(2_000)).toBe(true);
    expect(await b.ready(2_000)).toBe(true);
    await b.setCooldown('shared/m', { untilMs: T0 + 60_000, reason: 'overloaded' });

    p.pause();
    const first = await timed(() => a.getCooldown('shared/m', T0));
    expect(first.value).toBeUndefined(); // answered locally after the 100 ms timeout
    expect(first.ms).toBeGreaterThanOrEqual(90);
    expect(first.ms).toBeLessThan(500);
    expect(a.health()).toMatchObject({ status: 'degraded' });
    expect(a.health().detail).toContain('timed out');
    const second = await timed(() => a.consumeQuota('key:k:rpm', 1, 10, MIN, T0));
    expect(second.ms).toBeLessThan(50); // well under the 100 ms timeout: it did not wait
    expect(second.value.allowed).toBe(true);

    p.resume();
    await waitFor(() => a.health().status === 'ok', 3_000, 'back on Redis');
    expect(await a.getCooldown('shared/m', T0)).toBeDefined();
  });

  it('keeps counting its attempts in flight while degraded, so Redis has the true count once back', async () => {
    const prefix = testPrefix();
    const p = await proxy();
    const a = resilient(prefix, { url: `redis://127.0.0.1:${p.port}`, leaseMs: 150 });
    const b = plain(prefix);
    expect(await a.ready(2_000)).toBe(true);
    expect(await b.ready(2_000)).toBe(true);
    const inFlight = async (store: StateStore): Promise<number> => (await store.readBalance({ targets: ['p/m'], cursors: [], now: T0 })).targets['p/m']?.inFlight ?? -1;
    await a.beginAttempt('p/m');
    await a.beginAttempt('p/m');
    expect(await inFlight(b)).toBe(2);
    await p.stop();
    await waitFor(() => a.health().status === 'degraded', 2_000, 'degraded');
    await a.endAttempt('p/m', { alpha: 0.3, now: T0 }); // only local state hears of it now
    await p.start();
    await waitFor(() => a.health().status === 'ok', 3_000, 'back on Redis');
    // The next lease refresh (every 50 ms) writes the true count: one attempt still in flight.
    await waitFor(async () => (await inFlight(b)) === 1, 2_000, 'the in-flight count corrected');
  });
});
