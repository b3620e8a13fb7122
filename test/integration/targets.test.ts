import { describe, expect, it } from 'vitest';
import { useHarness } from './harness.js';

const messages = [{ role: 'user' as const, content: 'hi' }];

describe('per-target configuration', () => {
  const start = useHarness();

  it('request overrides edit what one model receives, and only that model', async () => {
    const h = await start({
      simulators: { sim: { reasoner: { kind: 'status', status: 500 }, plain: { kind: 'ok', text: 'ok' } } },
      providerOptions: {
        sim: {
          models: {
            reasoner: { request: { system_prefix: 'You are Acme support.', rename: { max_tokens: 'max_completion_tokens' }, remove: ['temperature'], headers: { 'x-acme-tenant': 'support', authorization: 'Bearer not-this-one' } } },
          },
        },
      },
      routes: { chat: { ladder: [{ targets: ['sim/reasoner'], retries: 0 }, { targets: ['sim/plain'] }] } },
    });
    await h.client.chat.completions.create({ model: 'chat', messages, max_tokens: 50, temperature: 0.2 });
    const edited = h.sim.callsFor('reasoner')[0]?.body as Record<string, unknown>;
    expect(edited.messages).toEqual([{ role: 'system', content: 'You are Acme support.' }, ...messages]);
    expect(edited.max_completion_tokens).toBe(50);
    expect(edited).not.toHaveProperty('max_tokens');
    expect(edited).not.toHaveProperty('temperature');
    const headers = h.sim.callsFor('reasoner')[0]?.headers as Record<string, string>;
    expect(headers['x-acme-tenant']).toBe('support');
    expect(headers.authorization).toBe('Bearer sk-test-sim-secret'); // the provider's key wins
    expect(h.sim.callsFor('plain')[0]?.headers).not.toHaveProperty('x-acme-tenant');
    const untouched = h.sim.callsFor('plain')[0]?.body as Record<string, unknown>;
    expect(untouched.messages).toEqual(messages);
    expect(untouched.max_tokens).toBe(50);
    expect(untouched.temperature).toBe(0.2);
  });

  it('a tool-using request skips a target without tools, and says so', async () => {
    const h = await start({
      simulators: { sim: { small: { kind: 'ok', text: 'no tools here' }, big: { kind: 'ok', text: 'with tools' } } },
      providerOptions: { sim: { models: { small: { tools: false } } } },
      routes: { chat: { ladder: [{ targets: ['sim/small'] }, { targets: ['sim/big'] }] } },
    });
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
    const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages, tools }).withResponse();
    expect(data.choices[0]?.message.content).toBe('with tools');
    expect(h.sim.callsFor('small')).toHaveLength(0);
    expect(response.headers.get('x-understudy-skipped')).toBe('sim/small (the request uses tools and this target has none)');
    expect(response.headers.get('x-understudy-attempts')).toBe('1');
    // Without tools the small model serves.
    const plain = await h.client.chat.completions.create({ model: 'chat', messages });
    expect(plain.choices[0]?.message.content).toBe('no tools here');
  });

  it('when no target can serve the request, the client gets a 400 saying why', async () => {
    const h = await start({
      simulators: { sim: { small: { kind: 'ok' } } },
      providerOptions: { sim: { models: { small: { vision: false } } } },
      routes: { chat: { ladder: [{ targets: ['sim/small'] }] } },
    });
    const error = await h.client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] })
      .then(
        () => undefined,
        (e: unknown) => e as { status: number; code: string; message: string },
      );
    expect(error).toMatchObject({ status: 400, code: 'no_capable_target' });
    expect(error?.message).toContain('no vision');
    expect(h.sim.calls).toHaveLength(0);
  });
});
