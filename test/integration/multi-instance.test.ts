/**
 * Several gateway instances sharing one Redis (the same `state.prefix`), in front of one
 * simulator: what one instance learns, the others act on. Each instance builds its own Redis
 * state store from its config, as in production. Keys are deleted after each test.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import type { RequestRecord } from '../../src/engine/attempt.js';
import { startGateway, type Gateway } from '../../src/server/gateway.js';
import { createSimulator, type Scenario, type Simulator } from '../../src/simulator/index.js';
import { adminConnection, closedPort, deleteKeys, testPrefix, TEST_REDIS_URL } from '../../src/state/__fixtures__/redis-test-keys.js';
import { RedisStateStore } from '../../src/state/redis.js';
import { chat, FAST_DEFAULTS, pollFor, USER_MESSAGES } from './harness.js';

interface Instance {
  gateway: Gateway;
  client: OpenAI;
  records: RequestRecord[];
}

interface Fleet {
  sim: Simulator;
  instances: Instance[];
  /** A store on the fleet's prefix, for the test to watch shared state (it takes no turns, writes nothing). */
  observer: RedisStateStore;
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

/** `count` gateways on one fresh Redis prefix in front of one simulator; `config` is YAML-shaped (routes, breaker, retry_budget). */
async function startFleet(count: number, models: Record<string, Scenario>, config: Record<string, unknown>): Promise<Fleet> {
  const prefix = testPrefix();
  closers.push(async () => {
    const admin = adminConnection();
    await deleteKeys(admin, prefix);
    await admin.quit();
  });
  const sim = createSimulator({ models });
  closers.push(() => sim.close());
  await sim.listen();
  const yaml = stringify({
    server: { host: '127.0.0.1', port: 0 },
    logging: { level: 'silent' },
    defaults: FAST_DEFAULTS,
    // The URL as an operator would write it when it carries a password.
    state: { backend: 'redis', url: '${env:UNDERSTUDY_REDIS_URL}', prefix },
    providers: { sim: { type: 'openai', base_url: sim.url, api_key: 'sk-test-sim' } },
    ...config,
  });
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const records: RequestRecord[] = [];
    const gateway = await startGateway(parseConfig(yaml, `instance-${i}.yaml`, { env: { UNDERSTUDY_REDIS_URL: TEST_REDIS_URL } }), { onRecord: (r) => records.push(r) });
    closers.push(() => gateway.close());
    expect(gateway.config.state).toMatchObject({ backend: 'redis', prefix });
    instances.push({ gateway, client: new OpenAI({ baseURL: gateway.url, apiKey: 'test', maxRetries: 0, timeout: 20_000 }), records });
  }
  const observer = new RedisStateStore({ url: TEST_REDIS_URL, prefix });
  closers.push(() => observer.close());
  expect(await observer.ready(2_000)).toBe(true);
  return { sim, instances, observer };
}

function at(fleet: Fleet, i: number): Instance {
  const instance = fleet.instances[i % fleet.instances.length];
  if (!instance) throw new Error(`no instance ${i}`);
  return instance;
}

describe('several instances on one Redis', () => {
  it('a circuit opened by failures seen on instance A makes instance B skip the target without calling it', async () => {
    const fleet = await startFleet(2, { primary: { kind: 'status', status: 500 }, backup: { kind: 'ok', text: 'backup' } }, {
      breaker: { consecutive_failures: 3, cooldown_ms: 60_000 },
      routes: { chat: { ladder: [{ targets: ['sim/primary'], retries: 0 }, { targets: ['sim/backup'] }] } },
    });
    const a = at(fleet, 0);
    const b = at(fleet, 1);
    for (let i = 0; i < 3; i++) {
      const out = await chat(a.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
      expect(out.headers.get('x-understudy-served-by')).toBe('sim/backup');
    }
    expect(fleet.sim.callsFor('primary')).toHaveLength(3);
    await pollFor(async () => (await fleet.observer.getBreaker('sim/primary'))?.state.phase === 'open', 2_000, 'the shared breaker to open');

    for (const mode of ['non-stream', 'stream'] as const) {
      const out = await chat(b.client, mode, { model: 'chat', messages: USER_MESSAGES });
      expect(out.headers.get('x-understudy-served-by')).toBe('sim/backup');
      expect(out.headers.get('x-understudy-attempts')).toBe('1');
      expect(out.headers.get('x-understudy-skipped')).toContain('sim/primary');
    }
    // B never called the primary: it learned of the open circuit from Redis.
    expect(fleet.sim.callsFor('primary')).toHaveLength(3);
    const ready = await fetch(`${b.gateway.url.replace(/\/v1$/, '')}/health/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: { state: unknown } }).checks.state).toEqual({ status: 'ok', backend: 'redis' });
  });

  it('shares one retry budget: retries made by three instances together stay within it', async () => {
    const fleet = await startFleet(3, { failing: { kind: 'status', status: 500 } }, {
      // A floor of 4 retries per window and no ratio: the fleet may retry 4 times in all, not 4 per instance.
      retry_budget: { ratio: 0, min_retries_per_window: 4, window_ms: 60_000, buckets: 10 },
      breaker: { consecutive_failures: 1_000, window: 1_000, min_requests: 1_000 },
      routes: { chat: { ladder: [{ targets: ['sim/failing'], retries: 3 }] } },
    });
    const requests = 12;
    const outs = await Promise.all(Array.from({ length: requests }, (_, i) => chat(at(fleet, i).client, 'non-stream', { model: 'chat', messages: USER_MESSAGES })));
    for (const out of outs) expect(out.status).toBe(503);
    const records = await pollFor(() => {
      const all = fleet.instances.flatMap((instance) => instance.records);
      return all.length >= requests && all;
    }, 5_000, 'every request record');
    const retries = records.flatMap((r) => r.attempts).filter((attempt) => attempt.reason === 'retry');
    // Each request wanted 3 retries (36 in all); one shared budget granted exactly 4. Separate
    // budgets would have granted 4 per instance (12).
    expect(retries).toHaveLength(4);
    expect(fleet.sim.calls).toHaveLength(requests + 4);
    expect(await fleet.observer.readRetryBudget('fleet', { bucket: Math.floor(Date.now() / 6_000), buckets: 10 })).toEqual({ firsts: requests, retries: 4 });
  });

  it('shares round-robin cursors and session affinity', async () => {
    const fleet = await startFleet(2, { a: { kind: 'ok', text: 'from a' }, b: { kind: 'ok', text: 'from b' } }, {
      routes: { chat: { ladder: [{ targets: ['sim/a', 'sim/b'], strategy: 'round_robin' }] } },
    });
    const served: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const out = await chat(at(fleet, i).client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
      served.push(out.headers.get('x-understudy-served-by'));
    }
    // One cursor for the fleet: A, B, A, B take turns 0..3. (Separate cursors would give a, a, b, b.)
    expect(served).toEqual(['sim/a', 'sim/b', 'sim/a', 'sim/b']);

    const session = { headers: { 'x-understudy-session': 'alice' } };
    const first = await chat(at(fleet, 0).client, 'non-stream', { model: 'chat', messages: USER_MESSAGES }, session);
    const sticky = first.headers.get('x-understudy-served-by');
    await pollFor(async () => (await fleet.observer.readBalance({ targets: [], cursors: [], affinity: { scope: 'chat', key: 'alice' }, now: Date.now() })).affinity?.targetId === sticky, 2_000, 'the shared session mapping');
    for (let i = 1; i <= 3; i++) {
      const out = await chat(at(fleet, i).client, 'non-stream', { model: 'chat', messages: USER_MESSAGES }, session);
      expect(out.headers.get('x-understudy-served-by')).toBe(sticky);
    }
  });

  it('an instance whose Redis is down starts, serves from local state at once, and reports degraded readiness', async () => {
    const sim = createSimulator({ models: { m: { kind: 'ok', text: 'hello' } } });
    closers.push(() => sim.close());
    await sim.listen();
    const yaml = stringify({
      server: { host: '127.0.0.1', port: 0 },
      logging: { level: 'silent' },
      defaults: FAST_DEFAULTS,
      state: { backend: 'redis', url: `redis://127.0.0.1:${await closedPort()}`, prefix: testPrefix() },
      providers: { sim: { type: 'openai', base_url: sim.url, api_key: 'sk-test-sim' } },
      routes: { chat: { ladder: [{ targets: ['sim/m'] }] } },
    });
    const gateway = await startGateway(parseConfig(yaml, 'down.yaml', { env: {} }));
    closers.push(() => gateway.close());
    const client = new OpenAI({ baseURL: gateway.url, apiKey: 'test', maxRetries: 0, timeout: 20_000 });
    for (const mode of ['non-stream', 'stream'] as const) {
      const out = await chat(client, mode, { model: 'chat', messages: USER_MESSAGES });
      expect(out.status).toBe(200);
      expect(out.text).toBe('hello');
      expect(out.ms).toBeLessThan(1_000);
    }
    const ready = await fetch(`${gateway.url.replace(/\/v1$/, '')}/health/ready`);
    expect(ready.status).toBe(200);
    const state = ((await ready.json()) as { checks: { state: { status: string; backend: string; detail: string } } }).checks.state;
    expect(state).toMatchObject({ status: 'degraded', backend: 'redis' });
    expect(state.detail).toContain('serving from local state');
  });
});
