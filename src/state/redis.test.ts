import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adminConnection, deleteKeys, testPrefix, TEST_REDIS_URL, waitFor } from './__fixtures__/redis-test-keys.js';
import { RedisStateStore } from './redis.js';
import { describeStateStoreContract } from './state-store.contract.js';
import type { Redis } from 'ioredis';

let admin: Redis;
const prefixes: string[] = [];
const stores: RedisStateStore[] = [];

beforeAll(() => {
  admin = adminConnection();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  for (const prefix of prefixes.splice(0)) await deleteKeys(admin, prefix);
});
afterAll(async () => {
  await admin.quit();
});

/** A connected store under `prefix` (closed and its keys deleted after the test). */
async function redisStore(prefix: string, options: ConstructorParameters<typeof RedisStateStore>[0] = {}): Promise<RedisStateStore> {
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  const store = new RedisStateStore({ url: TEST_REDIS_URL, prefix, ...options });
  stores.push(store);
  if (!(await store.ready(2_000))) throw new Error(`no Redis at ${TEST_REDIS_URL} (these tests need a running Redis)`);
  return store;
}

describeStateStoreContract('redis', () => redisStore(testPrefix()));

describe('RedisStateStore', () => {
  const MIN = 60_000;
  const now = Date.now();

  it('lets exactly the limit through when many consume at once across three instances', async () => {
    const prefix = testPrefix();
    const fleet = [await redisStore(prefix), await redisStore(prefix), await redisStore(prefix)];
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => (fleet[i % 3] as RedisStateStore).consumeQuota('key:k1:rpm', 1, 25, MIN, now)));
    expect(results.filter((r) => r.allowed)).toHaveLength(25);
    expect(Math.max(...results.map((r) => r.used))).toBe(25);
    expect((await fleet[0]!.consumeQuota('key:k1:rpm', 0, 25, MIN, now)).used).toBe(25);
  });

  it('keeps every key under its prefix, with a TTL on everything time-bounded', async () => {
    const prefix = testPrefix();
    const s = await redisStore(prefix);
    await s.setCooldown('p/m', { untilMs: now + 5_000, reason: 'rate_limited' });
    await s.compareAndSetBreaker('p/m', 0, { phase: 'closed', outcomes: ['failed'], consecutiveFailures: 1 });
    await s.addFirstAttempt(['route:chat', 'fleet'], { bucket: 10, buckets: 10 });
    await s.tryTakeRetry(['route:chat', 'fleet'], { bucket: 10, buckets: 10 }, { ratio: 0, floor: 1 });
    await s.beginAttempt('p/m');
    await s.endAttempt('p/m', { ttftMs: 10, alpha: 0.3, now });
    await s.readBalance({ targets: ['p/m'], cursors: ['chat#0'], affinity: { scope: 'chat', key: 'alice' }, now });
    await s.setAffinity('chat', 'alice', 'p/m', 60_000, now);
    await s.putCachedAnswer('anonymous\u0000chat', 'k', 'answer', now + 60_000, 10);
    await s.consumeQuota('key:k1:rpm', 1, 10, MIN, now);
    await s.addQuota('key:k1:tpm', 100, MIN, now);
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 100);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const kinds = new Set(keys.map((k) => k.slice(prefix.length).split(':')[0]));
    expect([...kinds].sort()).toEqual(['affinity', 'breaker', 'budget', 'cache', 'cache-order', 'cooldown', 'cursor', 'load', 'quota']);
    for (const key of keys) expect(await admin.pttl(key), key).toBeGreaterThan(0);
  });

  it('drops the in-flight count of an instance whose lease ran out, and keeps a live one refreshed', async () => {
    const prefix = testPrefix();
    const dying = await redisStore(prefix, { leaseMs: 300 });
    const living = await redisStore(prefix, { leaseMs: 300 });
    await dying.beginAttempt('p/m');
    await living.beginAttempt('p/m');
    const read = async (): Promise<number> => (await living.readBalance({ targets: ['p/m'], cursors: [], now })).targets['p/m']?.inFlight ?? -1;
    expect(await read()).toBe(2);
    await dying.close(); // dies without ending its attempt: no lease refresh from now on
    // The dead instance's lease runs out after 300 ms; the living one's is refreshed every 100 ms.
    await waitFor(async () => (await read()) === 1, 3_000, 'the dead instance to stop counting');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await read()).toBe(1);
  });

  it('orders the answer cache by store even within one millisecond', async () => {
    const s = await redisStore(testPrefix());
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.putCachedAnswer('scope', `k${i}`, `a${i}`, now + 60_000, 5)));
    const kept = await Promise.all(Array.from({ length: 20 }, (_, i) => s.getCachedAnswer('scope', `k${i}`, now)));
    expect(kept.filter((a) => a !== undefined)).toEqual(['a15', 'a16', 'a17', 'a18', 'a19']);
  });

  it('reports its connection in health()', async () => {
    const s = await redisStore(testPrefix());
    expect(s.health()).toEqual({ backend: 'redis', status: 'ok' });
    await s.close();
    expect(s.health()).toMatchObject({ backend: 'redis', status: 'degraded' });
  });
});
