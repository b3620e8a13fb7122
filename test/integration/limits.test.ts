/**
 * Hostile input limits over real sockets: message count and JSON nesting (400 in each API's own
 * error shape), header size (431), slow senders (408) without ever cutting a long response, idle
 * keep-alive connections, and a client that hangs up mid-stream (the upstream call ends at once).
 */
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import { USER_MESSAGES, expectServed, chat, pollFor, type Harness, useHarness } from './harness.js';
import { rawBody, rawExchange, rawPost } from './raw-http.js';

const TEXT = 'one two three four five six seven eight nine ten';
const start = useHarness();
let h: Harness;

beforeEach(async () => {
  h = await start({
    simulators: {
      sim: {
        fast: { kind: 'ok', text: TEXT },
        // 10 chunks 100 ms apart: a response that outlasts the request timeout and the idle timeout.
        long: { kind: 'ok', text: TEXT, chunks: 10, chunk_delay_ms: 100 },
        // 40 chunks 50 ms apart (2 s): long enough to hang up in the middle.
        endless: { kind: 'ok', text: 'word '.repeat(40).trim(), chunks: 40, chunk_delay_ms: 50 },
        'slow-answer': { kind: 'slow_first_token', delay_ms: 350, text: TEXT },
      },
    },
    routes: { chat: { ladder: [{ targets: 'sim/fast' }] } },
    defaults: { timeouts: { first_token_ms: 1_000, stall_ms: 400 } },
    server: { max_messages: 5, max_json_depth: 16, max_header_bytes: 2_048, request_timeout_ms: 300, idle_timeout_ms: 200 },
  });
});

const port = (): number => h.gateway.port;

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown>; requestId: string }> {
  const res = await request(`${h.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown>, requestId: String(res.headers['x-request-id']) };
}

const messages = (n: number): { role: string; content: string }[] => Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('message count and JSON nesting', () => {
  it('more than server.max_messages → 400 too_many_messages in OpenAI shape', async () => {
    const ok = await post('/v1/chat/completions', { model: 'chat', messages: messages(5) });
    expect(ok.status).toBe(200);
    const res = await post('/v1/chat/completions', { model: 'chat', messages: messages(6) });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: { message: expect.stringContaining('at most 5') as unknown, type: 'invalid_request_error', param: 'messages', code: 'too_many_messages' } });
    expect(await h.record(res.requestId)).toMatchObject({ status: 400, rejected: 'too_many_messages', attempts: [] });
    expect(h.sim.calls).toHaveLength(1);
  });

  it('more than server.max_messages → 400 in Anthropic shape on /v1/messages', async () => {
    const res = await post('/v1/messages', { model: 'chat', max_tokens: 10, messages: messages(7) });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('server.max_messages') as unknown } });
    expect(h.sim.calls).toHaveLength(0);
  });

  it('JSON nested deeper than server.max_json_depth → 400 json_too_deep, before parsing, in both shapes', async () => {
    const deep = `{"model":"chat","messages":[{"role":"user","content":"hi"}],"extra":${nested(10_000)}}`;
    const openai = await post('/v1/chat/completions', deep);
    expect(openai.status).toBe(400);
    expect(openai.json).toMatchObject({ error: { code: 'json_too_deep', param: null, type: 'invalid_request_error' } });
    const anthropic = await post('/v1/messages', deep.replace('"model"', '"max_tokens":5,"model"'));
    expect(anthropic.status).toBe(400);
    expect(anthropic.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('16 levels') as unknown } });
    // Brackets inside strings are text, not nesting.
    const inString = await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: nested(100) }], extra: JSON.parse(nested(14)) as unknown });
    expect(inString.status).toBe(200);
    expect(h.sim.calls).toHaveLength(1);
  });
});

describe('header size', () => {
  it('a request head over server.max_header_bytes → 431, and the gateway keeps serving', async () => {
    const big = await rawExchange(port(), `GET /health HTTP/1.1\r\nhost: x\r\nx-filler: ${'a'.repeat(3_000)}\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(big.closedByServer).toBe(true);
    const fits = await rawExchange(port(), `GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\nx-filler: ${'a'.repeat(1_500)}\r\n\r\n`);
    expect(fits.status).toBe(200);
  });
});

describe('slow clients and long responses', () => {
  it('a head that never completes → 408 after server.request_timeout_ms', async () => {
    const res = await rawExchange(port(), 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n', { timeoutMs: 3_000 });
    expect(res.closedByServer).toBe(true);
    expect(res.status).toBe(408);
    expect(res.closedAfterMs).toBeGreaterThanOrEqual(250);
    expect(res.closedAfterMs).toBeLessThan(2_000);
  });

  it('a body sent too slowly → 408, no upstream call', async () => {
    const body = JSON.stringify({ model: 'chat', messages: USER_MESSAGES });
    const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const res = await rawExchange(port(), head + body.slice(0, 5), { parts: [body.slice(5, 10)], gapMs: 100, timeoutMs: 3_000 });
    expect(res.closedByServer).toBe(true);
    expect(res.status).toBe(408);
    expect(res.closedAfterMs).toBeLessThan(2_000);
    expect(h.sim.calls).toHaveLength(0);
  });

  it('a stream lasting longer than the request and idle timeouts is delivered whole', async () => {
    const out = await chat(h.client, 'stream', { model: 'sim/long', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/long', model: 'long', text: TEXT, attempts: 1, reason: undefined });
    expect(out.ms).toBeGreaterThan(800);
    const slow = await chat(h.client, 'non-stream', { model: 'sim/slow-answer', messages: USER_MESSAGES });
    expectServed(slow, { servedBy: 'sim/slow-answer', model: 'slow-answer', text: TEXT, attempts: 1, reason: undefined });
  });

  it('an idle keep-alive connection is closed after server.idle_timeout_ms', async () => {
    const res = await rawExchange(port(), 'GET /health HTTP/1.1\r\nhost: x\r\n\r\n', { timeoutMs: 3_000 });
    expect(res.status).toBe(200);
    expect(res.closedByServer).toBe(true);
    expect(res.closedAfterMs).toBeGreaterThanOrEqual(150);
    expect(res.closedAfterMs).toBeLessThan(2_000);
  });
});

describe('a client that hangs up mid-stream', () => {
  const cases = [
    { api: 'OpenAI', path: '/v1/chat/completions', body: { model: 'sim/endless', stream: true, messages: USER_MESSAGES } },
    { api: 'Anthropic', path: '/v1/messages', body: { model: 'sim/endless', stream: true, max_tokens: 100, messages: USER_MESSAGES } },
  ];

  it.each(cases)('$api: the upstream connection is closed at once and the request is recorded as cancelled', async ({ path, body }) => {
    const res = await rawExchange(port(), rawPost(path, JSON.stringify(body), { 'x-request-id': `hangup-${path.length}` }), { hangUpAfterBytes: 600 });
    expect(res.status).toBe(200);
    expect(rawBody(res.text)).toMatch(/data: /);
    const hungUp = performance.now();
    const call = await pollFor(() => (h.sim.calls[0]?.clientClosed ? h.sim.calls[0] : undefined), 1_000, 'the upstream to see its connection closed');
    // The upstream stream had ~1.5 s left; it was closed well before that.
    expect(performance.now() - hungUp).toBeLessThan(500);
    expect(call.model).toBe('endless');
    const record = await h.record(`hangup-${path.length}`);
    expect(record.streamError).toBe('client_cancelled');
    await pollFor(() => h.sim.openConnections() === 0, 1_000, 'no upstream request left open');
  });
});
