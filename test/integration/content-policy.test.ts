import { describe, expect, it } from 'vitest';
import { useHarness, type Mode } from './harness.js';

/** A 200 answer carrying the provider's safety verdict (Anthropic `refusal`, Gemini safety block). */
describe('content-policy verdicts in a 200 answer', () => {
  const start = useHarness();

  async function setup(optIn: boolean) {
    return start({
      simulators: { sim: { refuses: { kind: 'content_filter' }, backup: { kind: 'ok', text: 'Backup answer.' } } },
      providers: { claude: { simulator: 'sim', type: 'anthropic' } },
      routes: {
        chat: { ladder: [{ targets: ['claude/refuses'] }, { targets: ['sim/backup'] }], ...(optIn ? { policy: { fallback_on_content_policy: true } } : {}) },
      },
    });
  }

  it.each(['non-stream', 'stream'] as Mode[])('%s: returned as the provider said it by default, never routed around', async (mode) => {
    const h = await setup(false);
    const stream = mode === 'stream';
    const completion = stream
      ? await (async () => {
          let finish: string | null | undefined;
          for await (const c of await h.client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'x' }] })) {
            finish = c.choices[0]?.finish_reason ?? finish;
          }
          return finish;
        })()
      : (await h.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] })).choices[0]?.finish_reason;
    expect(completion).toBe('content_filter');
    expect(h.sim.callsFor('backup')).toHaveLength(0);
  });

  it('non-stream: a route that opts in falls back, and the record says why', async () => {
    const h = await setup(true);
    const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('Backup answer.');
    expect(response.headers.get('x-understudy-fallback-reason')).toBe('content_policy');
    const record = await h.record(response.headers.get('x-request-id'));
    expect(record.attempts[0]).toMatchObject({ target: 'claude/refuses', outcome: 'failed', failure: { kind: 'content_policy' }, decision: { rule: 'content_policy_opt_in' } });
  });
});
