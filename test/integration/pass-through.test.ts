import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { RequestRecord } from '../../src/engine/attempt.js';
import { startGateway, type Gateway } from '../../src/server/gateway.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';

/** An Anthropic client served by an Anthropic target keeps every provider-specific feature. */
describe('same-format pass-through (Anthropic → Anthropic)', () => {
  let sim: Simulator | undefined;
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await sim?.close();
  });

  async function setup(): Promise<{ client: Anthropic; sim: Simulator; records: RequestRecord[] }> {
    sim = createSimulator({
      models: {
        'gpt-sim': { kind: 'status', status: 503 },
        'claude-sim': { kind: 'ok', text: 'Native answer.' },
      },
    });
    await sim.listen();
    const config = parseConfig(
      `server: { host: 127.0.0.1, port: 0 }
logging: { level: silent }
defaults: { retries: 0 }
providers:
  oai: { type: openai, base_url: ${sim.baseUrls.openai} }
  claude: { type: anthropic, base_url: ${sim.baseUrls.anthropic}, api_key: sk-ant-test }
routes:
  assistant: { ladder: [ { targets: [oai/gpt-sim] }, { targets: [claude/claude-sim] } ] }
  direct: { ladder: [ { targets: [claude/claude-sim] } ] }
`,
      'pass-through.yaml',
      { env: {} },
    );
    const records: RequestRecord[] = [];
    gateway = await startGateway(config, { onRecord: (r) => records.push(r) });
    return { client: new Anthropic({ baseURL: gateway.url.replace(/\/v1$/, ''), apiKey: 'client', maxRetries: 0 }), sim, records };
  }

  const request = {
    max_tokens: 300,
    top_k: 7,
    system: [{ type: 'text' as const, text: 'You are terse.', cache_control: { type: 'ephemeral' as const } }],
    messages: [
      { role: 'user' as const, content: [{ type: 'text' as const, text: 'Long document…', cache_control: { type: 'ephemeral' as const } }] },
      { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'Noted.' }] },
      { role: 'user' as const, content: 'Summarise.' },
    ],
    metadata: { user_id: 'u-1' },
  };

  it('sends the client body unchanged (cache_control, top_k, metadata) and returns the upstream message as is', async () => {
    const { client, sim } = await setup();
    const { data, response } = await client.messages.create({ model: 'direct', ...request }).withResponse();
    const upstream = sim.callsFor('claude-sim')[0];
    expect(upstream?.format).toBe('anthropic');
    expect(upstream?.body).toEqual({ model: 'claude-sim', ...request, stream: true });
    // Fields the canonical shape does not hold come through: the upstream's id and full usage.
    expect(data.id).toMatch(/^msg_/);
    expect(data.usage).toHaveProperty('cache_creation');
    expect(data.content).toEqual([expect.objectContaining({ type: 'text', text: 'Native answer.' })]);
    expect(response.headers.get('x-understudy-served-by')).toBe('claude/claude-sim');
  });

  it('relays the upstream events of a stream as they came, after an OpenAI-wire primary failed', async () => {
    const { client, sim, records } = await setup();
    const stream = client.messages.stream({ model: 'assistant', ...request });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Native answer.' });
    expect(final.usage).toHaveProperty('cache_creation');
    expect(types[0]).toBe('message_start');
    expect(types).toEqual(['message_start', 'content_block_start', ...types.slice(2, -3), 'content_block_stop', 'message_delta', 'message_stop']);
    expect(types.slice(2, -3).every((t) => t === 'content_block_delta' || t === 'ping')).toBe(true);
    expect(types.at(-1)).toBe('message_stop');
    expect(sim.callsFor('gpt-sim')[0]?.format).toBe('openai');
    expect(sim.callsFor('claude-sim')[0]?.body).toMatchObject({ top_k: 7, system: request.system });
    expect(records.at(-1)?.servedBy).toBe('claude/claude-sim');
  });
});
