/**
 * Graceful shutdown (`gateway.close({ graceMs })`): no new connections; what is in flight may
 * finish within the grace period; what outlasts it ends cleanly in its API's error shape
 * (`shutting_down`), never as a truncated success; each request is still recorded once.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { beforeEach, describe, expect, it } from 'vitest';
import { USER_MESSAGES, chat, expectServed, pollFor, type Harness, useHarness } from './harness.js';
import { rawBody, rawExchange, rawPost } from './raw-http.js';

const TEXT = 'one two three four five six seven eight nine ten';
const start = useHarness();
let h: Harness;

beforeEach(async () => {
  h = await start({
    simulators: {
      sim: {
        // ~1 s of stream: finishes inside a 3 s grace period.
        short: { kind: 'ok', text: TEXT, chunks: 10, chunk_delay_ms: 100 },
        // ~6 s of stream: outlasts a short grace period.
        long: { kind: 'ok', text: 'word '.repeat(60).trim(), chunks: 60, chunk_delay_ms: 100 },
        // A non-stream answer after 3 s.
        late: { kind: 'slow_first_token', delay_ms: 3_000, text: TEXT },
      },
    },
    routes: { chat: { ladder: [{ targets: 'sim/short' }] } },
    defaults: { timeouts: { first_token_ms: 5_000, stall_ms: 1_000, total_ms: 20_000 }, deadline_ms: 20_000 },
  });
});

const body = (model: string, stream: boolean, api: 'openai' | 'anthropic' = 'openai'): string =>
  JSON.stringify({ model, stream, messages: USER_MESSAGES, ...(api === 'anthropic' ? { max_tokens: 100 } : {}) });

/** Waits until the simulator has started answering `model` (so the request is in flight). */
const inFlight = (model: string): Promise<unknown> => pollFor(() => h.sim.callsFor(model)[0], 3_000, `a call to ${model}`);

/** A raw keep-alive connection: what it received so far, and when the server closed it. */
async function openConnection(port: number): Promise<{ socket: Socket; text: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, text: () => received, closed };
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('graceful shutdown', () => {
  it('a stream in flight completes during the grace period; close resolves after it', async () => {
    const streaming = chat(h.client, 'stream', { model: 'sim/short', messages: USER_MESSAGES });
    await inFlight('short');
    const began = performance.now();
    const closed = h.gateway.close({ graceMs: 3_000 });
    const out = await streaming;
    expectServed(out, { servedBy: 'sim/short', model: 'short', text: TEXT, attempts: 1, reason: undefined });
    await closed;
    expect(performance.now() - began).toBeLessThan(2_500);
    expect(h.records).toHaveLength(1);
    expect(h.records[0]?.streamError).toBeUndefined();
  });

  it('new connections are refused while draining', async () => {
    const port = h.gateway.port;
    const streaming = chat(h.client, 'stream', { model: 'sim/short', messages: USER_MESSAGES });
    await inFlight('short');
    const closed = h.gateway.close({ graceMs: 3_000 });
    expect(await connectionRefused(port)).toBe(true);
    expect((await streaming).streamEnded).toBe(true);
    await closed;
  });

  it.each([
    { api: 'openai' as const, path: '/v1/chat/completions', event: /data: \{"error":\{"message":"The gateway is shutting down[^"]*","type":"server_error","param":null,"code":"shutting_down"\}\}\n\n$/ },
    { api: 'anthropic' as const, path: '/v1/messages', event: /event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"The gateway is shutting down[^"]*"\}\}\n\n$/ },
  ])('$api: a stream outlasting the grace period ends with a shutting_down error event, no success end', async ({ api, path, event }) => {
    const exchange = rawExchange(h.gateway.port, rawPost(path, body('sim/long', true, api), { 'x-request-id': `long-${api}` }), { timeoutMs: 8_000 });
    await inFlight('long');
    await new Promise((resolve) => setTimeout(resolve, 250));
    const began = performance.now();
    await h.gateway.close({ graceMs: 300 });
    expect(performance.now() - began).toBeLessThan(2_000);
    const res = await exchange;
    expect(res.status).toBe(200);
    const sse = rawBody(res.text);
    expect(sse).toMatch(/word/);
    expect(sse).toMatch(event);
    expect(sse).not.toContain('[DONE]');
    expect(sse).not.toContain('message_stop');
    const record = await h.record(`long-${api}`);
    expect(h.records.filter((r) => r.requestId === `long-${api}`)).toHaveLength(1);
    expect(record.streamError).toBe('client_cancelled');
    await pollFor(() => h.sim.openConnections() === 0, 1_000, 'the upstream call to be closed');
  });

  it.each([
    { api: 'openai' as const, path: '/v1/chat/completions', shape: { error: { code: 'shutting_down', type: 'server_error', param: null } } },
    { api: 'anthropic' as const, path: '/v1/messages', shape: { type: 'error', error: { type: 'overloaded_error' } } },
  ])('$api: a non-stream request outlasting the grace period gets 503 shutting_down in its shape', async ({ api, path, shape }) => {
    const exchange = rawExchange(h.gateway.port, rawPost(path, body('sim/late', false, api), { 'x-request-id': `late-${api}` }), { timeoutMs: 8_000 });
    await inFlight('late');
    await h.gateway.close({ graceMs: 200 });
    const res = await exchange;
    expect(res.status).toBe(503);
    expect(res.text.toLowerCase()).toContain('connection: close');
    expect(res.text).toContain(`x-request-id: late-${api}`);
    expect(JSON.parse(rawBody(res.text))).toMatchObject(shape);
    await h.record(`late-${api}`);
    expect(h.records.filter((r) => r.requestId === `late-${api}`)).toHaveLength(1);
  });

  it('a request arriving on an open connection while draining: ready says 503 draining, inference gets 503 shutting_down', async () => {
    // Keep-alive connections each with a stream in flight (headers sent before the drain, so the
    // connection stays open); once the drain began, one more request is pipelined on each.
    const a = await openConnection(h.gateway.port);
    const b = await openConnection(h.gateway.port);
    const stream = body('sim/short', true);
    for (const c of [a, b]) c.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${stream.length}\r\n\r\n${stream}`);
    await pollFor(() => a.text().includes('data: ') && b.text().includes('data: '), 3_000, 'both streams to start');
    const closed = h.gateway.close({ graceMs: 3_000 });
    const late = body('chat', false);
    a.socket.write('GET /health/ready HTTP/1.1\r\nhost: x\r\n\r\n');
    b.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${late.length}\r\n\r\n${late}`);
    await Promise.all([a.closed, b.closed, closed]);
    for (const c of [a, b]) {
      expect([...c.text().matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1])).toEqual(['200', '503']);
      expect(c.text()).toContain('data: [DONE]');
      expect(c.text().toLowerCase()).toContain('connection: close');
    }
    expect(a.text()).toContain('"status":"not_ready"');
    expect(a.text()).toContain('"shutdown":{"status":"draining"}');
    expect(b.text()).toContain('"code":"shutting_down"');
    expect(h.sim.calls).toHaveLength(2);
  });
});
