import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_SCHEDULE, demoConfig, startDemoUpstreams, type DemoUpstreams } from '../src/demo/demo-setup.js';
import { sendDemoRequest } from '../src/demo/traffic.js';
import { startGateway, type Gateway } from '../src/server/gateway.js';

describe('the demo', () => {
  let upstreams: DemoUpstreams | undefined;
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await upstreams?.close();
  });

  async function startAt(offsetMs: number): Promise<Gateway> {
    // The simulator's schedule clock: created at "start", then moved to a chosen point of the outage cycle.
    let shift = 0;
    upstreams = await startDemoUpstreams({ clock: { now: () => Date.now() + shift } });
    shift = offsetMs;
    const config = demoConfig(upstreams.primary.url, upstreams.backup.url, 0);
    gateway = await startGateway({ ...config, logging: { level: 'silent' } });
    return gateway;
  }

  it('is served by the primary outside the outage', async () => {
    const gw = await startAt(0);
    const line = await sendDemoRequest(gw.url, 1);
    expect(line.status).toBe(200);
    expect(line.servedBy).toBe('sim-openai/gpt-4o');
    expect(line.reason).toBe('');
    expect(line.attempts).toBe('1');
  });

  it('visibly falls back during the scheduled outage: headers name the backup and the reason', async () => {
    const gw = await startAt(DEMO_SCHEDULE.firstOutageMs + 1_000);
    const client = new OpenAI({ baseURL: gw.url, apiKey: 'demo', maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }] })
      .withResponse();
    expect(response.headers.get('x-understudy-served-by')).toBe('sim-backup/llama-3.1-70b');
    expect(response.headers.get('x-understudy-fallback-reason')).toBe('overloaded');
    expect(response.headers.get('x-understudy-attempts')).toBe('3');
    expect(data.model).toBe('llama-3.1-70b');
    expect(data.choices[0]?.message.content).toContain('backup model');
    expect(upstreams?.primary.callsFor('gpt-4o')).toHaveLength(2);
  });

  it('streams the fallback too, with the same headers', async () => {
    const gw = await startAt(DEMO_SCHEDULE.firstOutageMs + 1_000);
    const client = new OpenAI({ baseURL: gw.url, apiKey: 'demo', maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Hello' }] })
      .withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(response.headers.get('x-understudy-served-by')).toBe('sim-backup/llama-3.1-70b');
    expect(text).toBe('Hello from the backup model (simulated llama-3.1-70b): the primary is down, and Understudy moved your request here.');
  });
});
