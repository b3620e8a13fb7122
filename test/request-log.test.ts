import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { startGateway, type Gateway } from '../src/server/gateway.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { createLogger } from '../src/telemetry/logger.js';

const KEY = 'sk-live-do-not-print-0123456789';

describe('the request log', () => {
  let sim: Simulator | undefined;
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await sim?.close();
  });

  it('writes one structured line per request listing every attempt, and never the provider key', async () => {
    sim = createSimulator({
      apiKey: KEY,
      models: { primary: { kind: 'status', status: 503 }, backup: { kind: 'ok', text: 'hello' } },
    });
    await sim.listen();
    const config = parseConfig(
      `server: { host: 127.0.0.1, port: 0 }
defaults: { policy: { backoff_base_ms: 5, backoff_max_ms: 10 } }
providers:
  sim: { type: openai, base_url: ${sim.url}, api_key: \${env:SIM_KEY} }
routes:
  chat: { ladder: [ { targets: [sim/primary] }, { targets: [sim/backup] } ] }
`,
      'log-test',
      { env: { SIM_KEY: KEY } },
    );
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    gateway = await startGateway(config, { logger });
    const client = new OpenAI({ baseURL: gateway.url, apiKey: 'client', maxRetries: 0 });

    const { response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true }).then(async (s) => {
      for await (const _ of s);
    });
    await expect(client.chat.completions.create({ model: 'no-such-route', messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow();

    expect(lines).toHaveLength(3);
    const [first, second, rejected] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({
      msg: 'request served after fallback',
      request_id: response.headers.get('x-request-id'),
      route: 'chat',
      status: 200,
      stream: false,
      served_by: 'sim/backup',
    });
    const attempts = first?.attempts as Record<string, unknown>[];
    expect(attempts.map((a) => [a.target, a.outcome, a.kind, a.status])).toEqual([
      ['sim/primary', 'failed', 'overloaded', 503],
      ['sim/primary', 'failed', 'overloaded', 503],
      ['sim/backup', 'ok', null, null],
    ]);
    expect(attempts[0]?.decision).toBe('retry_same:transient_retry');
    expect(attempts[1]?.decision).toBe('next_target:transient_exhausted');
    for (const a of attempts) expect(a.latency_ms).toEqual(expect.any(Number));
    expect(attempts[2]?.ttft_ms).toEqual(expect.any(Number));
    expect(second).toMatchObject({ stream: true, served_by: 'sim/backup' });
    expect(rejected).toMatchObject({ msg: 'request rejected', status: 404, rejected: 'model_not_found' });
    expect(lines.join('\n')).not.toContain(KEY);
    // The key did reach the upstream (the simulator requires it).
    expect(sim.callsFor('backup').length).toBe(2);
  });
});

describe('circuit breaker log lines', () => {
  let sim: Simulator | undefined;
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await sim?.close();
  });

  it('a target rejecting its key opens its circuit at once and says so at error level; later requests skip it', async () => {
    sim = createSimulator({ models: { primary: { kind: 'auth_error' }, backup: { kind: 'ok', text: 'hello' } } });
    await sim.listen();
    const config = parseConfig(
      `server: { host: 127.0.0.1, port: 0 }
providers:
  sim: { type: openai, base_url: ${sim.url} }
routes:
  chat: { ladder: [ { targets: [sim/primary] }, { targets: [sim/backup] } ] }
`,
      'breaker-log',
      { env: {} },
    );
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    gateway = await startGateway(config, { logger });
    const client = new OpenAI({ baseURL: gateway.url, apiKey: 'client', maxRetries: 0 });
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    const opened = lines.find((l) => l.msg?.toString().startsWith('circuit opened'));
    expect(opened).toMatchObject({ level: 50, target: 'sim/primary', kind: 'upstream_auth', cooldown_ms: 300_000 });
    expect(sim.callsFor('primary')).toHaveLength(1);
    const second = lines.filter((l) => l.msg === 'request served after fallback')[1];
    expect((second?.attempts as Record<string, unknown>[])[0]).toMatchObject({ target: 'sim/primary', outcome: 'skipped' });
  });
});
