/**
 * GET /health/live and GET /health/ready: JSON with per-check detail; ready follows the state
 * backend (ok or knowingly degraded: 200; failing: 503). The plain /health stays as it was.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../src/state/memory.js';
import type { StateHealth } from '../../src/state/state-store.js';
import { useHarness, type Harness } from './harness.js';

const start = useHarness();

function startWith(state?: MemoryStateStore): Promise<Harness> {
  return start({
    simulators: { sim: { m: { kind: 'ok' } } },
    routes: { chat: { ladder: [{ targets: 'sim/m' }] }, other: { ladder: [{ targets: 'sim/m' }] } },
    ...(state ? { gatewayOptions: { state } } : {}),
  });
}

async function get(h: Harness, path: string): Promise<{ status: number; json: unknown; headers: Record<string, unknown> }> {
  const res = await request(`${h.origin}${path}`);
  return { status: res.statusCode, json: await res.body.json(), headers: res.headers };
}

/** A store reporting what the test says (a shared backend that is down, or broken). */
class ReportingStore extends MemoryStateStore {
  constructor(private readonly report: () => StateHealth) {
    super();
  }
  health(): StateHealth {
    return this.report();
  }
}

describe('health endpoints', () => {
  it('GET /health/live → 200 with the process check', async () => {
    const h = await startWith();
    const live = await get(h, '/health/live');
    expect(live.status).toBe(200);
    expect(live.json).toEqual({ status: 'ok', checks: { process: { status: 'ok', uptime_ms: expect.any(Number) as unknown, draining: false } } });
    expect(live.headers['cache-control']).toBe('no-store');
  });

  it('GET /health/ready → 200 with config, state and shutdown checks (in-process store)', async () => {
    const h = await startWith();
    const ready = await get(h, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({
      status: 'ready',
      checks: { config: { status: 'ok', routes: 2 }, state: { status: 'ok', backend: 'memory' }, shutdown: { status: 'ok' } },
    });
  });

  it('a knowingly degraded state backend is still ready, with the reason', async () => {
    const h = await startWith(new ReportingStore(() => ({ backend: 'redis', status: 'degraded', detail: 'redis reconnecting' })));
    const ready = await get(h, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ready', checks: { state: { status: 'degraded', backend: 'redis', detail: 'redis reconnecting' } } });
  });

  it('a state backend that cannot report → 503 not_ready, without the error text', async () => {
    const h = await startWith(
      new ReportingStore(() => {
        throw new Error('connect ECONNREFUSED redis://:hunter2@10.0.0.1');
      }),
    );
    const ready = await get(h, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: 'not_ready', checks: { state: { status: 'failing' } } });
    expect(JSON.stringify(ready.json)).not.toContain('hunter2');
    // Liveness is not readiness: the process still runs.
    expect((await get(h, '/health/live')).status).toBe(200);
  });

  it('the plain GET /health is unchanged, and the health paths answer only GET', async () => {
    const h = await startWith();
    expect(await get(h, '/health')).toMatchObject({ status: 200, json: { status: 'ok' } });
    const post = await request(`${h.origin}/health/ready`, { method: 'POST', body: '{}' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET');
    await post.body.dump();
  });
});
