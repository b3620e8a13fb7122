import { describe, expect, it } from 'vitest';
import { useHarness } from './harness.js';

describe('context window', () => {
  const start = useHarness();

  async function setup() {
    return start({
      simulators: { sim: { small: { kind: 'ok', text: 'small model' }, large: { kind: 'ok', text: 'large model' } } },
      providerOptions: { sim: { models: { small: { context_window: 2_000 }, large: { context_window: 200_000 } } } },
      routes: { chat: { ladder: [{ targets: ['sim/small'] }, { targets: ['sim/large'] }] } },
    });
  }

  it('skips a target whose window cannot hold the prompt and the requested output, without calling it', async () => {
    const h = await setup();
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(400); // ~4000 tokens
    const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: long }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('large model');
    expect(h.sim.callsFor('small')).toHaveLength(0);
    expect(response.headers.get('x-understudy-skipped')).toMatch(/^sim\/small \(the prompt \(about \d+ tokens\) and 0 output tokens exceed this target's 2000-token context window\)$/);
  });

  it('counts the requested output too, and serves a short prompt from the small window', async () => {
    const h = await setup();
    const short = await h.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    expect(short.choices[0]?.message.content).toBe('small model');
    const medium = 'The quick brown fox jumps over the lazy dog. '.repeat(100); // ~1000 tokens
    const withOutput = await h.client.chat.completions.create({ model: 'chat', max_tokens: 1_500, messages: [{ role: 'user', content: medium }] });
    expect(withOutput.choices[0]?.message.content).toBe('large model');
  });
});
