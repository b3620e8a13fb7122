import { afterEach, describe, expect, it } from 'vitest';
import OpenAI, { APIError } from 'openai';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import type { RequestRecord } from '../../src/engine/attempt.js';
import { startGateway, type Gateway } from '../../src/server/gateway.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';

/** Faults injected into healthy targets by config: game days against real providers. */
describe('fault injection', () => {
  let sim: Simulator | undefined;
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await sim?.close();
  });

  async function setup(faults: unknown[], random?: () => number): Promise<{ client: OpenAI; records: RequestRecord[] }> {
    sim = createSimulator({ models: { primary: { kind: 'ok', text: 'one two three four five six' }, backup: { kind: 'ok', text: 'backup' } } });
    await sim.listen();
    const yaml = stringify({
      server: { host: '127.0.0.1', port: 0 },
      logging: { level: 'silent' },
      defaults: { retries: 0, timeouts: { first_token_ms: 300, stall_ms: 300 } },
      breaker: { consecutive_failures: 1000, failure_rate: 1, min_requests: 1000, window: 1000 },
      providers: { sim: { type: 'openai', base_url: sim.url } },
      routes: { chat: { ladder: [{ targets: ['sim/primary'] }, { targets: ['sim/backup'] }] } },
      faults,
    });
    const records: RequestRecord[] = [];
    gateway = await startGateway(parseConfig(yaml, 'faults.yaml', { env: {} }), { onRecord: (r) => records.push(r), ...(random ? { faultRandom: random } : {}) });
    return { client: new OpenAI({ baseURL: gateway.url, apiKey: 'k', maxRetries: 0 }), records };
  }

  const ask = (client: OpenAI) => client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).withResponse();

  it('an injected 503 fails the real target the way a real outage would: no upstream call, fallback serves', async () => {
    const { client } = await setup([{ target: 'sim/primary', fault: { kind: 'status', status: 503 } }]);
    const { data, response } = await ask(client);
    expect(data.choices[0]?.message.content).toBe('backup');
    expect(response.headers.get('x-understudy-fallback-reason')).toBe('overloaded');
    expect(sim?.callsFor('primary')).toHaveLength(0);
  });

  it('a cut after output that no target can continue ends a streaming answer with an error (never a truncated success)', async () => {
    const { client } = await setup([
      { target: 'sim/primary', fault: { kind: 'cut', after_chunks: 2 } },
      { target: 'sim/backup', fault: { kind: 'status', status: 503 } },
    ]);
    const stream = await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(text.length).toBeGreaterThan(0);
    expect(sim?.callsFor('primary')).toHaveLength(1);
  });

  it('a stall is caught by the stall watchdog like a real one', async () => {
    const { client, records } = await setup([{ target: 'sim/primary', fault: { kind: 'stall', after_chunks: 0 } }]);
    const { data } = await ask(client);
    expect(data.choices[0]?.message.content).toBe('backup');
    expect(records[0]?.attempts[0]?.failure?.kind).toBe('timeout_first_token');
  });

  it('applies to a fraction of requests and only inside its window', async () => {
    let draw = 0;
    const draws = [0.1, 0.9, 0.1, 0.9];
    const { client } = await setup(
      [
        { target: 'sim/primary', fault: { kind: 'reset' }, fraction: 0.5, until: new Date(Date.now() + 60_000).toISOString() },
        { target: 'sim/backup', fault: { kind: 'reset' }, until: new Date(Date.now() - 1_000).toISOString() },
      ],
      () => draws[draw++ % draws.length] ?? 0.5,
    );
    const served: string[] = [];
    for (let i = 0; i < 2; i++) served.push((await ask(client)).response.headers.get('x-understudy-served-by') ?? '');
    expect(served).toContain('sim/backup');
    expect(served).toContain('sim/primary');
    expect(sim?.callsFor('backup').length).toBeGreaterThan(0); // the backup's expired fault no longer applies
  });
});
