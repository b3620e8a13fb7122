import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { useHarness, MODES, chat } from './harness.js';

const ask = (content: string) => ({ model: 'chat', messages: [{ role: 'user' as const, content }] });

describe('the cache degradation rung', () => {
  const start = useHarness();

  async function setup() {
    return start({
      simulators: { sim: { primary: { kind: 'ok', text: 'The original answer.' } } },
      routes: { chat: { ladder: [{ targets: ['sim/primary'], retries: 0 }, { cache: true }, { static: 'busy' }] } },
      defaults: { retries: 0 },
    });
  }

  it.each(MODES)('%s: when every live rung fails, the last good answer to the identical request is served, marked degraded', async (mode) => {
    const h = await setup();
    const first = await chat(h.client, mode, ask('What is Understudy?'));
    expect(first.text).toBe('The original answer.');
    h.sim.setModel('primary', { kind: 'status', status: 503 });

    const again = await chat(h.client, mode, ask('What is Understudy?'));
    expect(again.status).toBe(200);
    expect(again.text).toBe('The original answer.');
    expect(again.headers.get('x-understudy-served-by')).toBe('understudy/cache');
    expect(again.headers.get('x-understudy-degraded')).toBe('true');
    expect(again.headers.get('x-understudy-fallback-reason')).toBe('overloaded');
    if (mode === 'non-stream') {
      expect((again.completion as unknown as { understudy?: unknown }).understudy).toMatchObject({ degraded: true, source: 'cache', stored_at: expect.any(String) });
    }
    const record = await h.record(again.headers.get('x-request-id'));
    expect(record).toMatchObject({ degraded: true, servedBy: 'understudy/cache' });

    // A different request has no cached answer: the static rung answers.
    const other = await chat(h.client, mode, ask('Something else?'));
    expect(other.text).toBe('busy');
    expect(other.headers.get('x-understudy-served-by')).toBe('understudy/static');
  });

  it('a stream served live is remembered too, and a non-streaming request gets it back', async () => {
    const h = await setup();
    await chat(h.client, 'stream', ask('Stream me.'));
    h.sim.setModel('primary', { kind: 'status', status: 500 });
    const again = await chat(h.client, 'non-stream', ask('Stream me.'));
    expect(again.text).toBe('The original answer.');
    expect(again.headers.get('x-understudy-served-by')).toBe('understudy/cache');
  });

  it('a failed or cut answer is never remembered', async () => {
    const h = await setup();
    h.sim.setModel('primary', { kind: 'cut', after_chunks: 2, text: 'Half an answer that never finished.' });
    await chat(h.client, 'stream', ask('Cut me.'));
    h.sim.setModel('primary', { kind: 'status', status: 503 });
    const again = await chat(h.client, 'non-stream', ask('Cut me.'));
    expect(again.text).toBe('busy');
  });
});

describe('cache rung config', () => {
  const base = (ladder: string) => `providers:\n  p: { type: openai, base_url: http://127.0.0.1:1/v1 }\nroutes:\n  chat:\n    ladder: ${ladder}\n`;
  it('accepts cache: true or bounds, and rejects a live rung after it, or two of them', () => {
    const config = parseConfig(base('[ { targets: [p/m] }, { cache: { max_age_ms: 60000, max_entries: 5 } }, { static: busy } ]'), 't', { env: {} });
    expect(config.routes.chat?.ladder[1]).toEqual({ type: 'cache', maxAgeMs: 60_000, maxEntries: 5 });
    expect(() => parseConfig(base('[ { cache: true }, { targets: [p/m] } ]'), 't', { env: {} })).toThrow(/live rung after the cache rung/);
    expect(() => parseConfig(base('[ { targets: [p/m] }, { cache: true }, { cache: true } ]'), 't', { env: {} })).toThrow(/at most one cache rung/);
    expect(() => parseConfig(base('[ { targets: [p/m] }, { cache: true } ]').replace('  chat:\n', '  chat:\n    kind: embeddings\n'), 't', { env: {} })).toThrow(/cannot have a cache rung/);
  });
});
