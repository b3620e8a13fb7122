import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/engine/fake-clock.js';
import { MemoryStateStore } from '../../src/state/memory.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { chat, pollFor, useHarness, USER_MESSAGES, type Harness } from './harness.js';

/**
 * Active health probes over real sockets: the gateway runs on a fake clock (the probe rounds and
 * the breaker's open period are driven by `advance`), the simulator and HTTP are real.
 */
describe('active health probes of open circuits', () => {
  const start = useHarness();

  async function setup(probes: Record<string, unknown> | undefined) {
    const clock = new FakeClock();
    const state = new MemoryStateStore();
    const logs: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void logs.push(line) });
    const h = await start({
      simulators: { sim: { primary: { kind: 'status', status: 503 }, backup: { kind: 'ok', text: 'backup' } } },
      routes: { chat: { ladder: [{ targets: ['sim/primary'], retries: 0 }, { targets: ['sim/backup'] }] } },
      // A long open period (5 minutes): without probes nothing would reach the primary for that long.
      breaker: { consecutive_failures: 2, cooldown_ms: 300_000, success_threshold: 1, ...(probes ? { probes } : {}) },
      gatewayOptions: { clock, state, logger },
    });
    return { h, clock, state, logs };
  }

  /** Two failures open the primary's circuit; the third request skips it. */
  async function openPrimary(h: Harness, state: MemoryStateStore): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
      expect(out.headers.get('x-understudy-served-by')).toBe('sim/backup');
    }
    expect((await state.getBreaker('sim/primary'))?.state.phase).toBe('open');
    expect(h.sim.callsFor('primary')).toHaveLength(2);
  }

  it('with breaker.probes: a recovered primary goes half-open at the next probe round, long before its open period ends', async () => {
    const { h, clock, state, logs } = await setup({ interval_ms: 1_000, timeout_ms: 2_000 });
    await openPrimary(h, state);

    await clock.advance(1_000); // a probe round: the primary is still down
    await pollFor(() => h.sim.callsFor('primary').length === 3, 3_000, 'the first probe');
    await pollFor(() => logs.some((l) => l.includes('health probe failed')), 3_000, 'the failed probe’s log line');
    const probe = h.sim.callsFor('primary')[2];
    expect(probe?.body).toMatchObject({ model: 'primary', messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 });
    expect((await state.getBreaker('sim/primary'))?.state.phase).toBe('open');
    expect(h.sim.callsFor('backup')).toHaveLength(3); // probes never touch a healthy target
    expect(h.records).toHaveLength(3); // and are not requests

    h.sim.setModel('primary', { kind: 'ok', text: 'primary' });
    await clock.advance(1_000);
    await pollFor(async () => (await state.getBreaker('sim/primary'))?.state.phase === 'half_open', 3_000, 'the half-open primary');
    expect(h.sim.callsFor('primary')).toHaveLength(4);

    // 2 s into a 5 min open period: the next request is the half-open probe, and it closes the circuit.
    const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
    expect(out.headers.get('x-understudy-served-by')).toBe('sim/primary');
    expect((await state.getBreaker('sim/primary'))?.state.phase).toBe('closed');

    const probeLines = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).startsWith('health probe'));
    expect(probeLines).toEqual([
      expect.objectContaining({ level: 40, target: 'sim/primary', outcome: 'failed', kind: 'overloaded', status: 503 }),
      expect.objectContaining({ level: 30, target: 'sim/primary', outcome: 'ok', half_open: true }),
    ]);
    expect(logs.join('\n')).not.toContain('sk-test-');
  });

  it('without breaker.probes (the default): no probe ever reaches the simulator', async () => {
    const { h, clock, state, logs } = await setup(undefined);
    await openPrimary(h, state);
    h.sim.setModel('primary', { kind: 'ok', text: 'primary' });
    for (let i = 0; i < 9; i++) await clock.advance(30_000); // nine default probe intervals, inside the 5 min open period
    await new Promise((resolve) => setTimeout(resolve, 100)); // room for a stray call to land
    expect(h.sim.calls.filter((c) => c.model === 'primary')).toHaveLength(2);
    expect((await state.getBreaker('sim/primary'))?.state.phase).toBe('open');
    expect(logs.some((l) => l.includes('health probe'))).toBe(false);
  });
});
