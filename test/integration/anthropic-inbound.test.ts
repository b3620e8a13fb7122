import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from './harness.js';

/** Anthropic SDK clients on `POST /v1/messages`, served through the same ladder by OpenAI-wire upstreams. */
const PRIMARY = 'Primary answer from the OpenAI-wire upstream.';
const BACKUP = 'Backup answer after the primary failed.';

describe('inbound Anthropic Messages API', () => {
  const start = useHarness();

  async function setup(primary: Parameters<Harness['sim']['setModel']>[1]): Promise<{ h: Harness; client: Anthropic }> {
    const h = await start({
      simulators: { sim: { primary, backup: { kind: 'ok', text: BACKUP } } },
      routes: {
        claude: { ladder: [{ targets: ['sim/primary'] }, { targets: ['sim/backup'] }] },
        dead: { ladder: [{ targets: ['sim/primary'] }] },
      },
    });
    const client = new Anthropic({ baseURL: h.gateway.url.replace(/\/v1$/, ''), apiKey: 'client-key', maxRetries: 0 });
    return { h, client };
  }

  it('answers messages.create in Anthropic shape, with the served model and headers', async () => {
    const { h, client } = await setup({ kind: 'ok', text: PRIMARY });
    const { data, response } = await client.messages
      .create({ model: 'claude', max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] })
      .withResponse();
    expect(data.type).toBe('message');
    expect(data.role).toBe('assistant');
    expect(data.model).toBe('primary');
    expect(data.content).toEqual([{ type: 'text', text: PRIMARY }]);
    expect(data.stop_reason).toBe('end_turn');
    expect(data.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-understudy-served-by')).toBe('sim/primary');
    const upstream = h.sim.callsFor('primary')[0]?.body as { messages: unknown[]; max_tokens: number };
    expect(upstream.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
    ]);
    expect(upstream.max_tokens).toBe(256);
  });

  it('falls back across the ladder and streams the backup as Anthropic events', async () => {
    const { h, client } = await setup({ kind: 'status', status: 503 });
    const stream = client.messages.stream({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] });
    const events: string[] = [];
    stream.on('streamEvent', (e) => events.push(e.type));
    const final = await stream.finalMessage();
    expect(final.content).toHaveLength(1);
    expect(final.content[0]).toMatchObject({ type: 'text', text: BACKUP });
    expect(final.model).toBe('backup');
    expect(final.stop_reason).toBe('end_turn');
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');
    expect(events).toContain('content_block_delta');
    expect(h.sim.callsFor('primary')).toHaveLength(2);
    const record = await h.record();
    expect(record.servedBy).toBe('sim/backup');
  });

  it('translates tools, tool_choice and tool results for the upstream', async () => {
    const { h, client } = await setup({ kind: 'ok', text: PRIMARY });
    await client.messages.create({
      model: 'claude',
      max_tokens: 50,
      tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' }, { type: 'text', text: 'And tomorrow?' }] },
      ],
    });
    const body = h.sim.callsFor('primary')[0]?.body as Record<string, unknown>;
    expect(body.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }]);
    expect(body.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(body.parallel_tool_calls).toBe(false);
    expect(body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
      { role: 'user', content: 'And tomorrow?' },
    ]);
  });

  it('thinking becomes the portable reasoning_effort for a non-Anthropic upstream (never a field it would reject)', async () => {
    const { h, client } = await setup({ kind: 'ok', text: PRIMARY });
    await client.messages.create({
      model: 'claude',
      max_tokens: 20_000,
      thinking: { type: 'enabled', budget_tokens: 16_000 },
      messages: [{ role: 'user', content: 'Think hard.' }],
      // An Anthropic API parameter this SDK version does not type.
      ...({ top_k: 5 } as Record<string, unknown>),
    });
    const body = h.sim.callsFor('primary')[0]?.body as Record<string, unknown>;
    expect(body.reasoning_effort).toBe('high');
    expect(body).not.toHaveProperty('thinking');
    expect(body).not.toHaveProperty('top_k');
  });

  it('a stream cut after output, with no target to continue it, ends with an Anthropic error event the SDK raises', async () => {
    const { client } = await setup({ kind: 'cut', after_chunks: 2, text: PRIMARY });
    const stream = client.messages.stream({ model: 'dead', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] });
    let text = '';
    stream.on('text', (t) => (text += t));
    await expect(stream.finalMessage()).rejects.toThrow(/stream_cut|failed after output/);
    expect(text.length).toBeGreaterThan(0);
    expect(PRIMARY.startsWith(text)).toBe(true);
  });

  it('all targets failing is a 503 in Anthropic error shape, and the SDK does not retry it', async () => {
    const { h, client } = await setup({ kind: 'status', status: 500 });
    const retrying = new Anthropic({ baseURL: h.gateway.url.replace(/\/v1$/, ''), apiKey: 'k', maxRetries: 2 });
    const error = await retrying.messages.create({ model: 'dead', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(h.sim.callsFor('primary')).toHaveLength(2); // one ladder walk (retry included), not three
    expect(client.maxRetries).toBe(0);
  });

  it('bad input gets a 400 in Anthropic shape naming the field', async () => {
    const { client } = await setup({ kind: 'ok' });
    const error = await client.messages
      .create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') } });
  });

  it('an unknown model is a 404 not_found_error', async () => {
    const { client } = await setup({ kind: 'ok' });
    const error = await client.messages.create({ model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
  });
});
