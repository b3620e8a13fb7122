/**
 * Hedged requests over real sockets: a first attempt with no first token after `hedge_after_ms`
 * gets a partner; the first to answer wins and the loser's upstream connection is closed.
 */
import { describe, expect, it } from 'vitest';
import { chat, MODES, pollFor, USER_MESSAGES, useHarness } from './harness.js';

const start = useHarness();

describe.each(MODES)('%s client: hedging', (mode) => {
  it('races the next candidate after hedge_after_ms; the loser is aborted upstream', async () => {
    const h = await start({
      simulators: { sim: { slow: { kind: 'slow_first_token', delay_ms: 1_500, text: 'late' }, quick: { kind: 'ok', text: 'quick answer' } } },
      routes: { chat: { ladder: [{ targets: ['sim/slow', 'sim/quick'], strategy: 'round_robin', hedge_after_ms: 100 }] } },
      defaults: { timeouts: { first_token_ms: 3_000 } },
    });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expect(out.text).toBe('quick answer');
    expect(out.headers.get('x-understudy-served-by')).toBe('sim/quick');
    expect(out.headers.get('x-understudy-attempts')).toBe('2');
    expect(out.headers.get('x-understudy-hedge-lost')).toBe('sim/slow');
    expect(out.ms).toBeLessThan(1_500); // the client did not wait for the slow target
    // The slow target saw its connection closed by the gateway.
    await pollFor(() => h.sim.callsFor('slow')[0]?.clientClosed, 2_000, 'the loser to be aborted');
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.attempts.map((a) => [a.target, a.reason, a.outcome])).toEqual([
      ['sim/slow', 'primary', 'lost'],
      ['sim/quick', 'hedge', 'ok'],
    ]);
  });
});

describe('hedging is off unless a rung sets it', () => {
  it('a slow first attempt is simply waited for', async () => {
    const h = await start({
      simulators: { sim: { slow: { kind: 'slow_first_token', delay_ms: 300, text: 'patience' }, quick: { kind: 'ok', text: 'never' } } },
      routes: { chat: { ladder: [{ targets: ['sim/slow', 'sim/quick'], strategy: 'round_robin' }] } },
    });
    const out = await chat(h.client, 'stream', { model: 'chat', messages: USER_MESSAGES });
    expect(out.text).toBe('patience');
    expect(h.sim.callsFor('quick')).toHaveLength(0);
  });
});
