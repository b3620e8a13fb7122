import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../canonical/chat.js';
import { ChunkAssembler } from '../../canonical/chunks.js';
import { UpstreamFailure, isUpstreamFailure } from '../../canonical/failure.js';
import type { ProviderSpec } from '../registry.js';
import type { UpstreamCall, UpstreamEvent } from '../target.js';
import { read } from './__fixtures__/conformance.js';
import { createAnthropicProvider, messagesUrl } from './adapter.js';

const KEY = 'sk-ant-api03-test-key-0123456789';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

type Reply = (res: ServerResponse) => void;

let server: Server;
let port = 0;
let reply: Reply = () => undefined;
let seen: Seen[] = [];
let closed: Promise<void> = Promise.resolve();
const dispatcher = new Agent({ keepAliveTimeout: 1_000 });

beforeAll(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown> });
      closed = new Promise((resolve) => res.on('close', () => resolve()));
      reply(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(() => {
  seen = [];
});

afterAll(async () => {
  await dispatcher.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function spec(over: Partial<ProviderSpec> = {}): ProviderSpec {
  return { name: 'anthropic', kind: 'anthropic', baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY, headers: {}, streamUpstream: false, models: {}, ...over };
}

const target = (over: Partial<ProviderSpec> = {}) => createAnthropicProvider(spec(over), { dispatcher, now: () => 1_700_000_000_000 }).target('claude-sonnet-4-5');
const request = (over: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'route', messages: [{ role: 'user', content: 'Weather in Paris?' }], ...over });

const sse = (text: string, headers: Record<string, string> = {}): Reply => (res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_1', 'anthropic-ratelimit-requests-remaining': '49', ...headers });
  res.end(text);
};
const json = (status: number, body: string, headers: Record<string, string> = {}): Reply => (res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
};

async function collect(call: UpstreamCall): Promise<UpstreamEvent[]> {
  const events: UpstreamEvent[] = [];
  for await (const event of call.events) events.push(event);
  return events;
}

function assemble(events: UpstreamEvent[]) {
  const assembler = new ChunkAssembler();
  for (const e of events) if (e.type === 'chunk') assembler.add(e.chunk);
  return assembler.result();
}

async function failureOf(promise: Promise<unknown>): Promise<UpstreamFailure> {
  try {
    await promise;
  } catch (error) {
    if (isUpstreamFailure(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('the anthropic adapter over a real socket', () => {
  it('sends the Anthropic headers and body, and replays a recorded stream as chunks', async () => {
    reply = sse(read('anthropic/sdk-typescript/tool_use_response.sse'));
    const call = await target().call(request({ stream: true, seed: 1 }), { signal: new AbortController().signal, stream: true });
    const events = await collect(call);

    const [req] = seen;
    expect(req).toMatchObject({ method: 'POST', url: '/v1/messages' });
    expect(req?.headers).toMatchObject({ 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', accept: 'text/event-stream' });
    expect(req?.headers.authorization).toBeUndefined();
    expect(req?.body).toMatchObject({ model: 'claude-sonnet-4-5', stream: true, max_tokens: 64_000, messages: [{ role: 'user', content: 'Weather in Paris?' }] });

    expect(call.status).toBe(200);
    expect(call.headers).toEqual({ 'request-id': 'req_1', 'anthropic-ratelimit-requests-remaining': '49' });
    expect(call.droppedParams).toEqual(['seed']);
    expect(events.some((e) => e.type === 'keepalive')).toBe(true);
    const response = assemble(events);
    expect(response.model).toBe('claude-opus-4-8');
    expect(response.choices[0]?.message.content).toBe("I'll check the current weather in Paris for you.");
    expect(response.choices[0]?.message.tool_calls).toEqual([
      { id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn', type: 'function', function: { name: 'get_weather', arguments: '{"location": "Paris"}' } },
    ]);
    expect(response.choices[0]?.finish_reason).toBe('tool_calls');
    expect(response.usage).toMatchObject({ prompt_tokens: 377, completion_tokens: 65 });
    expect(response.created).toBe(1_700_000_000);
  });

  it('a non-streaming call yields one response', async () => {
    reply = json(200, read('vercel-ai/anthropic/anthropic-text.json'));
    const events = await collect(await target().call(request(), { signal: new AbortController().signal, stream: false }));
    expect(seen[0]?.body).not.toHaveProperty('stream');
    expect(seen[0]?.headers.accept).toBe('application/json');
    expect(events).toHaveLength(1);
    expect(events[0]?.type === 'response' && events[0].response.choices[0]?.message.content).toMatch(/^Hello!/);
  });

  it('streams from upstream for a non-streaming client when the provider says so', async () => {
    reply = sse(read('anthropic/sdk-python/basic_response.sse'));
    const t = target({ streamUpstream: true });
    expect(t.streamsUpstream(false)).toBe(true);
    const events = await collect(await t.call(request(), { signal: new AbortController().signal, stream: false }));
    expect(seen[0]?.body.stream).toBe(true);
    expect(assemble(events).choices[0]?.message.content).toBe('Hello there!');
  });

  it('529 → overloaded', async () => {
    reply = json(529, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_2"}');
    const failure = await failureOf(target().call(request(), { signal: new AbortController().signal, stream: true }));
    expect(failure.details).toMatchObject({ kind: 'overloaded', status: 529, code: 'overloaded_error' });
  });

  it('429 with retry-after → rate_limited with retryAfterMs', async () => {
    reply = json(429, '{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}', { 'retry-after': '7' });
    const failure = await failureOf(target().call(request(), { signal: new AbortController().signal, stream: true }));
    expect(failure.details).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 7_000 });
  });

  it('401 → upstream_auth, with the key scrubbed from the message', async () => {
    reply = json(401, JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key: ${KEY}` } }));
    const failure = await failureOf(target().call(request(), { signal: new AbortController().signal, stream: false }));
    expect(failure.kind).toBe('upstream_auth');
    expect(failure.message).not.toContain(KEY);
  });

  it('the recorded mid-stream overloaded error, after a 200, is overloaded', async () => {
    reply = sse(read('errors/anthropic.overloaded_error.midstream.sse'));
    const call = await target().call(request(), { signal: new AbortController().signal, stream: true });
    expect((await failureOf(collect(call))).kind).toBe('overloaded');
  });

  it('a connection dropped mid-answer is a cut stream', async () => {
    const text = read('anthropic/sdk-python/basic_response.sse');
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(text.slice(0, text.indexOf('event: content_block_stop')));
      setTimeout(() => res.destroy(), 20);
    };
    const call = await target().call(request(), { signal: new AbortController().signal, stream: true });
    expect((await failureOf(collect(call))).kind).toBe('stream_cut');
  });

  it('an abort from the engine ends the call with its reason and closes the connection', async () => {
    const text = read('anthropic/sdk-python/basic_response.sse');
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(text.slice(0, text.indexOf('event: content_block_delta')));
    };
    const controller = new AbortController();
    const call = await target().call(request(), { signal: controller.signal, stream: true });
    const iterator = call.events[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'chunk' });
    const reason = new UpstreamFailure({ kind: 'stream_stalled', message: 'no chunk for 300 ms' });
    controller.abort(reason);
    const drain = async (): Promise<void> => {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) expect(next.value.type).not.toBe('chunk');
    };
    expect(await failureOf(drain())).toBe(reason); // (a ping already read may still come out first)
    await closed; // the upstream saw the connection close: it stops generating
  });

  it('n > 1 fails as unsupported_parameter without calling upstream', async () => {
    const failure = await failureOf(target().call(request({ n: 2 }), { signal: new AbortController().signal, stream: false }));
    expect(failure.kind).toBe('unsupported_parameter');
    expect(seen).toHaveLength(0);
  });

  it('sends the configured anthropic-version and extra headers', async () => {
    reply = json(200, read('vercel-ai/anthropic/anthropic-text.json'));
    await collect(await target({ apiVersion: '2024-01-01', headers: { 'anthropic-beta': 'a,b' } }).call(request(), { signal: new AbortController().signal, stream: false }));
    expect(seen[0]?.headers).toMatchObject({ 'anthropic-version': '2024-01-01', 'anthropic-beta': 'a,b' });
  });

  it('declares its capabilities: json schema emulated, prefill native', () => {
    expect(target().capabilities).toMatchObject({ tools: true, jsonSchema: true, vision: true, prefill: true, maxOutputTokens: 64_000 });
    expect(target({ models: { 'claude-sonnet-4-5': { maxOutputTokens: 8_000 } } }).capabilities.maxOutputTokens).toBe(8_000);
  });
});

describe('messagesUrl', () => {
  it.each([
    ['https://api.anthropic.com', 'https://api.anthropic.com/v1/messages'],
    ['https://api.anthropic.com/', 'https://api.anthropic.com/v1/messages'],
    ['https://api.anthropic.com/v1', 'https://api.anthropic.com/v1/messages'],
    ['https://proxy.example/anthropic/v1/', 'https://proxy.example/anthropic/v1/messages'],
    ['', 'https://api.anthropic.com/v1/messages'],
  ])('%s → %s', (base, url) => {
    expect(messagesUrl(base).href).toBe(url);
  });
});
