import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import OpenAI from 'openai';
import { Agent, request } from 'undici';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Scenario, type SimClock, type Simulator, type SimulatorOptions, createSimulator } from './index.js';

// ---------------------------------------------------------------------------------------------
// Conformance schema (shared/conformance sits next to the repo: src/simulator -> ../../../shared)
// ---------------------------------------------------------------------------------------------

const CONFORMANCE = new URL('../../../shared/conformance/', import.meta.url);
type Validator = ((data: unknown) => boolean) & { errors?: unknown };
const validators: Record<string, Validator> = {};

beforeAll(() => {
  const schema = JSON.parse(readFileSync(new URL('openai-chat.schema.json', CONFORMANCE), 'utf8')) as { $id: string };
  const ajv = new Ajv2020Module.default({ allErrors: true, strict: true, strictTypes: false });
  addFormatsModule.default(ajv);
  ajv.addSchema(schema);
  for (const def of ['CreateChatCompletionResponse', 'CreateChatCompletionStreamResponse', 'ErrorResponse', 'ListModelsResponse', 'Model']) {
    const v = ajv.getSchema(`${schema.$id}#/$defs/${def}`);
    if (!v) throw new Error(`missing $def ${def}`);
    validators[def] = v;
  }
});

function expectValid(def: string, data: unknown): void {
  const v = validators[def];
  if (!v) throw new Error(`no validator ${def}`);
  const ok = v(data);
  if (!ok) throw new Error(`${def} invalid: ${JSON.stringify(v.errors)}\n${JSON.stringify(data)}`);
}

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`fixtures/errors/${name}`, CONFORMANCE), 'utf8'));
}

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

let sim: Simulator | undefined;
let agent: Agent;

beforeEach(() => {
  agent = new Agent({ keepAliveTimeout: 100 });
});

afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await agent.destroy();
});

async function start(models: Record<string, Scenario>, extra: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  sim = createSimulator({ models, ...extra });
  await sim.listen();
  return sim;
}

function current(): Simulator {
  if (!sim) throw new Error('simulator not started');
  return sim;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  ms: number;
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

const MESSAGES = [{ role: 'user', content: 'Say hello.' }];

function chatBody(model: string, stream: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: MESSAGES, stream, ...(stream ? { stream_options: { include_usage: true } } : {}), ...extra };
}

async function http(
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Reply> {
  const t0 = performance.now();
  const res = await request(`${current().url}${path}`, {
    method,
    dispatcher: agent,
    body: opts.body,
    headers: { 'content-type': 'application/json', ...opts.headers },
    signal: opts.signal,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: flatHeaders(res.headers), text, ms: performance.now() - t0 };
}

function chat(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Reply> {
  return http('POST', '/chat/completions', { body: JSON.stringify(body), headers });
}

interface SseEvent {
  data: string;
  /** ms since the request was sent */
  at: number;
}

interface StreamReply {
  status: number;
  headers: Record<string, string>;
  raw: string;
  events: SseEvent[];
  headersAt: number;
  /** set when the body ended with a socket-level error */
  error?: Error & { code?: string };
}

/** Streams a chat request, timestamping every SSE event as it arrives. */
async function streamChat(body: Record<string, unknown>, signal?: AbortSignal): Promise<StreamReply> {
  const t0 = performance.now();
  const res = await request(`${current().url}/chat/completions`, {
    method: 'POST',
    dispatcher: agent,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    signal,
  });
  const out: StreamReply = {
    status: res.statusCode,
    headers: flatHeaders(res.headers),
    raw: '',
    events: [],
    headersAt: performance.now() - t0,
  };
  let buffer = '';
  try {
    for await (const part of res.body) {
      const s = (part as Buffer).toString('utf8');
      out.raw += s;
      buffer += s;
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, ''))
          .join('\n');
        out.events.push({ data, at: performance.now() - t0 });
      }
    }
  } catch (e) {
    out.error = e as Error & { code?: string };
  }
  return out;
}

interface Chunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: { index: number; delta: Record<string, unknown>; logprobs: null; finish_reason: string | null }[];
  usage?: Record<string, unknown> | null;
}

function chunksOf(r: StreamReply): Chunk[] {
  return r.events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as Chunk);
}

function contentOf(chunks: Chunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta['content'] ?? '').join('');
}

function contentChunks(chunks: Chunk[]): Chunk[] {
  return chunks.filter((c) => typeof c.choices[0]?.delta['content'] === 'string' && !('role' in (c.choices[0]?.delta ?? {})));
}

/** Asserts every chunk is schema-valid and the stream obeys the OpenAI invariants. */
function expectWellFormedStream(r: StreamReply, opts: { model: string; includeUsage: boolean; done?: boolean }): Chunk[] {
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  expect(r.raw).toMatch(/^(data: [^\n]*\n\n)+$/); // data-only SSE
  const chunks = chunksOf(r);
  for (const c of chunks) expectValid('CreateChatCompletionStreamResponse', c);
  const first = chunks[0];
  if (!first) throw new Error('no chunks');
  for (const c of chunks) {
    expect(c.id).toBe(first.id);
    expect(c.created).toBe(first.created);
    expect(c.model).toBe(opts.model);
    expect(c).toMatchObject({ object: 'chat.completion.chunk', system_fingerprint: 'fp_sim', service_tier: 'default' });
  }
  expect(first.id).toMatch(/^chatcmpl-/);
  expect(first.choices).toEqual([
    { index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null },
  ]);
  const withChoices = chunks.filter((c) => c.choices.length > 0);
  const finishes = withChoices.filter((c) => c.choices[0]?.finish_reason !== null);
  expect(finishes).toHaveLength(1);
  expect(finishes[0]?.choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
  expect(withChoices.at(-1)).toBe(finishes[0]);
  if (opts.includeUsage) {
    for (const c of withChoices) expect(c.usage).toBeNull();
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
    expect(chunks.filter((c) => c.choices.length === 0)).toHaveLength(1);
  } else {
    for (const c of chunks) expect('usage' in c).toBe(false);
  }
  const doneEvents = r.events.filter((e) => e.data === '[DONE]');
  if (opts.done ?? true) {
    expect(doneEvents).toHaveLength(1);
    expect(r.events.at(-1)?.data).toBe('[DONE]');
  } else {
    expect(doneEvents).toHaveLength(0);
  }
  expect(r.error).toBeUndefined();
  return chunks;
}

function expectCompletion(reply: Reply, model: string, content: string): Record<string, unknown> {
  expect(reply.status).toBe(200);
  expect(reply.headers['content-type']).toBe('application/json');
  expect(reply.headers['x-request-id']).toMatch(/^req_[0-9a-f]{32}$/);
  const body = JSON.parse(reply.text) as Record<string, unknown>;
  expectValid('CreateChatCompletionResponse', body);
  const promptTokens = Math.ceil(JSON.stringify(MESSAGES).length / 4);
  const completionTokens = Math.ceil(content.length / 4);
  expect(body).toEqual({
    id: expect.stringMatching(/^chatcmpl-[A-Za-z0-9]+$/),
    object: 'chat.completion',
    created: expect.any(Number),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: 'default',
    system_fingerprint: 'fp_sim',
  });
  expect(Math.abs((body['created'] as number) - Date.now() / 1000)).toBeLessThan(5);
  return body;
}

interface ErrorBody {
  error: { message: string; type: string | null; param: string | null; code: string | null; status?: number };
}

function expectError(reply: Reply, status: number, expected: Partial<ErrorBody['error']>): ErrorBody {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toBe('application/json');
  expect(reply.headers['x-request-id']).toMatch(/^req_/);
  const body = JSON.parse(reply.text) as ErrorBody;
  expectValid('ErrorResponse', body);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error).toMatchObject(expected);
  return body;
}

async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const DEFAULT_TEXT = 'Hello from the simulator.';
const MODES = [
  ['non-stream', false],
  ['stream', true],
] as const;

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

describe('endpoints', () => {
  it('serves /health', async () => {
    await start({});
    const url = new URL(current().url);
    const res = await request(`${url.origin}/health`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ status: 'ok' });
  });

  it('exposes url/port after listen', async () => {
    const s = await start({});
    expect(s.port).toBeGreaterThan(0);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/v1`);
  });

  it('lists models in the OpenAI shape', async () => {
    await start({ 'gpt-a': { kind: 'ok' }, 'gpt-b': { kind: 'reset' } });
    current().setModel('gpt-c', { kind: 'empty' });
    const r = await http('GET', '/models');
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text) as { object: string; data: Record<string, unknown>[] };
    expectValid('ListModelsResponse', body);
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m['id'])).toEqual(['gpt-a', 'gpt-b', 'gpt-c']);
    for (const m of body.data) expect(m).toEqual({ id: m['id'], object: 'model', created: expect.any(Number), owned_by: 'understudy-simulator' });

    const one = await http('GET', '/models/gpt-b');
    expect(one.status).toBe(200);
    expectValid('Model', JSON.parse(one.text));
    expectError(await http('GET', '/models/nope'), 404, { code: 'model_not_found' });
  });

  it('404s an unknown model with the real OpenAI body', async () => {
    await start({ known: { kind: 'ok' } });
    for (const [, stream] of MODES) {
      const r = await chat(chatBody('gpt-x', stream));
      const body = expectError(r, 404, {});
      expect(body).toEqual({
        error: {
          message: 'The model `gpt-x` does not exist or you do not have access to it.',
          type: 'invalid_request_error',
          param: null,
          code: 'model_not_found',
        },
      });
    }
    expect(current().calls.map((c) => c.outcome)).toEqual(['model_not_found', 'model_not_found']);
  });

  it('400s invalid JSON and a missing model', async () => {
    await start({ m: { kind: 'ok' } });
    const bad = await http('POST', '/chat/completions', { body: '{"model": "m",' });
    expectError(bad, 400, { type: 'invalid_request_error', param: null, code: null });
    expect(JSON.parse(bad.text).error.message).toMatch(/^We could not parse the JSON body of your request/);
    expectError(await http('POST', '/chat/completions', { body: '[1,2]' }), 400, { type: 'invalid_request_error' });
    expectError(await chat({ messages: MESSAGES }), 400, { message: 'you must provide a model parameter' });
    expect(current().calls.map((c) => c.outcome)).toEqual(['invalid_json', 'invalid_json', 'missing_model']);
  });

  it('404s unknown routes', async () => {
    await start({});
    expectError(await http('POST', '/audio/speech', { body: '{}' }), 404, { message: 'Invalid URL (POST /v1/audio/speech)' });
  });

  describe('apiKey', () => {
    it('requires the bearer key when configured', async () => {
      await start({ m: { kind: 'ok' } }, { apiKey: 'sk-test-secret-key-0001' });
      const missing = expectError(await chat(chatBody('m', false)), 401, {
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      });
      expect(missing.error.message).toMatch(/^You didn't provide an API key/);
      const wrong = expectError(await chat(chatBody('m', false), { authorization: 'Bearer sk-wrong-key-abcdefgh9999' }), 401, {
        code: 'invalid_api_key',
      });
      expect(wrong.error.message).toBe(
        `Incorrect API key provided: sk-${'*'.repeat('sk-wrong-key-abcdefgh9999'.length - 7)}9999. You can find your API key at https://platform.openai.com/account/api-keys.`,
      );
      expectError(await http('GET', '/models'), 401, { code: 'invalid_api_key' });
      expectCompletion(await chat(chatBody('m', false), { authorization: 'Bearer sk-test-secret-key-0001' }), 'm', DEFAULT_TEXT);
      expect((await http('GET', '/models', { headers: { authorization: 'Bearer sk-test-secret-key-0001' } })).status).toBe(200);
      expect(current().calls.map((c) => c.outcome)).toEqual(['unauthorized', 'unauthorized', 'ok']);
    });

    it('does not require a key for /health', async () => {
      await start({}, { apiKey: 'k' });
      const res = await request(`${new URL(current().url).origin}/health`, { dispatcher: agent });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    });
  });

  it("serves Azure OpenAI's deployment path: the deployment is the model, the key travels in api-key", async () => {
    const s = await start({ dep: { kind: 'ok', text: 'from azure' } }, { apiKey: 'azure-key' });
    const post = async (key: string): Promise<Reply> => {
      const res = await request(`${s.origin}/openai/deployments/dep/chat/completions?api-version=2024-10-21`, {
        method: 'POST',
        dispatcher: agent,
        body: JSON.stringify({ messages: MESSAGES }),
        headers: { 'content-type': 'application/json', 'api-key': key },
      });
      return { status: res.statusCode, headers: flatHeaders(res.headers), text: await res.body.text(), ms: 0 };
    };
    expectError(await post('wrong'), 401, { code: 'invalid_api_key' });
    expectCompletion(await post('azure-key'), 'dep', 'from azure');
    expect(s.calls.map((c) => [c.model, c.format, c.outcome])).toEqual([
      ['dep', 'openai', 'unauthorized'],
      ['dep', 'openai', 'ok'],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Wire exactness of successful completions
// ---------------------------------------------------------------------------------------------

describe('ok', () => {
  it('non-stream: wire-exact chat.completion', async () => {
    await start({ 'gpt-4o-sim': { kind: 'ok' } });
    const r = await chat({ model: 'gpt-4o-sim', messages: MESSAGES });
    expectCompletion(r, 'gpt-4o-sim', DEFAULT_TEXT);
    for (const h of ['openai-processing-ms', 'openai-version', 'x-ratelimit-remaining-requests']) expect(r.headers[h]).toBeDefined();
    expect(current().calls).toEqual([
      {
        model: 'gpt-4o-sim',
        stream: false,
        at: expect.any(Number),
        body: { model: 'gpt-4o-sim', messages: MESSAGES },
        outcome: 'ok',
        format: 'openai',
        headers: expect.objectContaining({ 'content-type': 'application/json' }),
      },
    ]);
  });

  it('stream without include_usage: no usage fields at all', async () => {
    await start({ m: { kind: 'ok', text: 'one two three' } });
    const r = await streamChat({ model: 'm', messages: MESSAGES, stream: true });
    const chunks = expectWellFormedStream(r, { model: 'm', includeUsage: false });
    expect(r.headers['x-request-id']).toMatch(/^req_/);
    expect(contentChunks(chunks).map((c) => c.choices[0]?.delta)).toEqual([
      { content: 'one' },
      { content: ' two' },
      { content: ' three' },
    ]);
    expect(chunks).toHaveLength(1 + 3 + 1);
  });

  it('stream with include_usage: usage:null everywhere, then a choices:[] usage chunk, then [DONE]', async () => {
    await start({ m: { kind: 'ok' } });
    const r = await streamChat(chatBody('m', true));
    const chunks = expectWellFormedStream(r, { model: 'm', includeUsage: true });
    expect(contentOf(chunks)).toBe(DEFAULT_TEXT);
    const promptTokens = Math.ceil(JSON.stringify(MESSAGES).length / 4);
    expect(chunks.at(-1)?.usage).toEqual({
      prompt_tokens: promptTokens,
      completion_tokens: Math.ceil(DEFAULT_TEXT.length / 4),
      total_tokens: promptTokens + Math.ceil(DEFAULT_TEXT.length / 4),
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    });
  });

  it('stream: exactly `chunks` content chunks', async () => {
    await start({ m: { kind: 'ok', chunks: 20 } });
    const r = await streamChat(chatBody('m', true));
    const chunks = expectWellFormedStream(r, { model: 'm', includeUsage: true });
    expect(contentChunks(chunks)).toHaveLength(20);
    expect(contentOf(chunks)).toBe(DEFAULT_TEXT);
  });

  it.each(MODES)('%s: latency_ms delays the response', async (_name, stream) => {
    await start({ m: { kind: 'ok', latency_ms: 60 } });
    if (stream) {
      const r = await streamChat(chatBody('m', true));
      expectWellFormedStream(r, { model: 'm', includeUsage: true });
      expect(r.headersAt).toBeGreaterThanOrEqual(55);
      expect(r.headersAt).toBeLessThan(2000);
    } else {
      const r = await chat(chatBody('m', false));
      expectCompletion(r, 'm', DEFAULT_TEXT);
      expect(r.ms).toBeGreaterThanOrEqual(55);
      expect(r.ms).toBeLessThan(2000);
    }
  });

  it('stream: chunk_delay_ms spaces the content chunks', async () => {
    await start({ m: { kind: 'ok', chunks: 4, chunk_delay_ms: 25 } });
    const r = await streamChat(chatBody('m', true));
    expectWellFormedStream(r, { model: 'm', includeUsage: true });
    const contentEvents = r.events.slice(1, 5);
    const first = contentEvents[0]?.at ?? 0;
    const last = contentEvents[3]?.at ?? 0;
    expect(first).toBeLessThan(2000);
    expect(last - first).toBeGreaterThanOrEqual(70);
    expect(last - first).toBeLessThan(2000);
  });

  it('is usable from the official openai SDK (stream and non-stream)', async () => {
    await start({ 'gpt-sim': { kind: 'ok', text: 'Hi there friend' } }, { apiKey: 'sk-sdk' });
    const client = new OpenAI({ baseURL: current().url, apiKey: 'sk-sdk', maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'gpt-sim', messages: [{ role: 'user', content: 'x' }] });
    expect(completion.choices[0]?.message.content).toBe('Hi there friend');
    const stream = await client.chat.completions.create({
      model: 'gpt-sim',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hi there friend');
    expect(usage).toMatchObject({ completion_tokens: 4 });
  });
});

// ---------------------------------------------------------------------------------------------
// Error scenarios (same answer whether streaming or not)
// ---------------------------------------------------------------------------------------------

describe.each(MODES)('error scenarios (%s)', (_mode, stream) => {
  it('rate_limit: 429 with retry headers only when given', async () => {
    await start({
      plain: { kind: 'rate_limit' },
      hinted: { kind: 'rate_limit', retry_after_s: 2, retry_after_ms: 1500 },
    });
    const expected = { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' };
    const plain = await chat(chatBody('plain', stream));
    expectError(plain, 429, expected);
    expect(plain.headers['retry-after']).toBeUndefined();
    expect(plain.headers['retry-after-ms']).toBeUndefined();
    const hinted = await chat(chatBody('hinted', stream));
    expectError(hinted, 429, expected);
    expect(hinted.headers['retry-after']).toBe('2');
    expect(hinted.headers['retry-after-ms']).toBe('1500');
    expect(hinted.headers['x-ratelimit-remaining-requests']).toBe('0');
  });

  it('insufficient_quota: 429 without Retry-After', async () => {
    await start({ m: { kind: 'insufficient_quota' } });
    const r = await chat(chatBody('m', stream));
    expectError(r, 429, {
      message: 'You exceeded your current quota, please check your plan and billing details.',
      type: 'insufficient_quota',
      param: null,
      code: 'insufficient_quota',
    });
    expect(r.headers['retry-after']).toBeUndefined();
  });

  it.each([
    [500, 'The server had an error while processing your request. Sorry about that!'],
    [502, 'Bad gateway.'],
    [503, 'The engine is currently overloaded, please try again later'],
    [504, 'Gateway timeout.'],
    [529, 'The server is currently overloaded, please try again later'],
    [599, 'The server had an error while processing your request. Sorry about that!'],
  ])('status %i: realistic server_error body', async (status, message) => {
    await start({ m: { kind: 'status', status } });
    const r = await chat(chatBody('m', stream));
    expectError(r, status, { message, type: 'server_error', param: null, code: null });
    expect(r.headers['retry-after']).toBeUndefined();
  });

  it('status with retry_after_s, 4xx statuses and a custom message', async () => {
    await start({
      a: { kind: 'status', status: 503, retry_after_s: 3 },
      b: { kind: 'status', status: 403 },
      c: { kind: 'status', status: 418, message: 'teapot' },
    });
    const a = await chat(chatBody('a', stream));
    expectError(a, 503, { type: 'server_error' });
    expect(a.headers['retry-after']).toBe('3');
    expectError(await chat(chatBody('b', stream)), 403, { type: 'request_forbidden', code: 'unsupported_country_region_territory' });
    expectError(await chat(chatBody('c', stream)), 418, { message: 'teapot', type: 'invalid_request_error' });
  });

  it('context_window: the real context_length_exceeded body', async () => {
    await start({ d: { kind: 'context_window' }, big: { kind: 'context_window', limit: 10 } });
    const r = await chat(chatBody('d', stream));
    expectError(r, 400, {
      message:
        "This model's maximum context length is 4096 tokens. However, your messages resulted in 4097 tokens. Please reduce the length of the messages.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    });
    const real = fixture('openai.context_length_exceeded.400.json') as ErrorBody;
    const pattern = /^This model's maximum context length is \d+ tokens\. However, your messages resulted in \d+ tokens\. Please reduce the length of the messages\.$/;
    expect(real.error.message).toMatch(pattern);
    const messages = [{ role: 'user', content: 'x'.repeat(400) }];
    const big = expectError(await chat({ model: 'big', messages, stream }), 400, { code: 'context_length_exceeded' });
    expect(big.error.message).toMatch(pattern);
    expect(big.error.message).toContain(`resulted in ${Math.round(JSON.stringify(messages).length / 4)} tokens`);
  });

  it('content_filter: the Azure prompt-filter body (type:null) in the fixture shape', async () => {
    await start({ m: { kind: 'content_filter' } });
    const r = await chat(chatBody('m', stream));
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toBe('application/json');
    const body = JSON.parse(r.text) as ErrorBody;
    const shape = fixture('azure-openai.prompt-filtered.minimal.400.json') as ErrorBody;
    expect(Object.keys(body)).toEqual(Object.keys(shape));
    expect(Object.keys(body.error).sort()).toEqual(Object.keys(shape.error).sort());
    for (const key of Object.keys(shape.error) as (keyof ErrorBody['error'])[]) {
      expect(typeof body.error[key]).toBe(typeof shape.error[key]);
    }
    expect(body.error).toEqual({
      message:
        "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
      type: null,
      param: shape.error.param,
      code: shape.error.code,
      status: shape.error.status,
    });
  });

  it('invalid_request: 400 invalid_value on temperature', async () => {
    await start({ m: { kind: 'invalid_request' } });
    const body = expectError(await chat(chatBody('m', stream)), 400, {
      type: 'invalid_request_error',
      param: 'temperature',
      code: 'invalid_value',
    });
    expect(body.error.message).toMatch(/^Invalid value for 'temperature': /);
  });

  it('unsupported_parameter: the fixture body verbatim', async () => {
    await start({ m: { kind: 'unsupported_parameter' } });
    const body = expectError(await chat(chatBody('m', stream)), 400, {});
    expect(body).toEqual(fixture('openai.unsupported_parameter.400.json'));
  });

  it('auth_error: 401 invalid_api_key echoing the redacted key', async () => {
    await start({ m: { kind: 'auth_error' } });
    const body = expectError(await chat(chatBody('m', stream), { authorization: 'Bearer sk-proj-abcdefghijkl7777' }), 401, {
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    });
    expect(body.error.message).toMatch(
      /^Incorrect API key provided: sk-\*+7777\. You can find your API key at https:\/\/platform\.openai\.com\/account\/api-keys\.$/,
    );
  });
});

it('errors map onto the openai SDK error classes', async () => {
  await start({
    rl: { kind: 'rate_limit', retry_after_s: 1 },
    s500: { kind: 'status', status: 500 },
    auth: { kind: 'auth_error' },
    ctx: { kind: 'context_window' },
  });
  const client = new OpenAI({ baseURL: current().url, apiKey: 'sk-x', maxRetries: 0 });
  const fail = (model: string): Promise<unknown> =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
  const rl = await fail('rl');
  expect(rl).toBeInstanceOf(OpenAI.RateLimitError);
  expect((rl as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('rate_limit_exceeded');
  expect(await fail('s500')).toBeInstanceOf(OpenAI.InternalServerError);
  expect(await fail('auth')).toBeInstanceOf(OpenAI.AuthenticationError);
  const ctx = await fail('ctx');
  expect(ctx).toBeInstanceOf(OpenAI.BadRequestError);
  expect((ctx as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
});

// ---------------------------------------------------------------------------------------------
// Timing and stream-shape scenarios
// ---------------------------------------------------------------------------------------------

describe('slow_first_token', () => {
  it('stream: headers and role chunk at once, first content after delay_ms', async () => {
    await start({ m: { kind: 'slow_first_token', delay_ms: 80 } });
    const r = await streamChat(chatBody('m', true));
    expectWellFormedStream(r, { model: 'm', includeUsage: true });
    const role = r.events[0];
    const firstContent = r.events[1];
    expect(r.headersAt).toBeLessThan(60);
    expect(role?.at).toBeLessThan(60);
    expect((firstContent?.at ?? 0) - (role?.at ?? 0)).toBeGreaterThanOrEqual(70);
    expect(firstContent?.at).toBeLessThan(2000);
  });

  it('non-stream: whole response after delay_ms', async () => {
    await start({ m: { kind: 'slow_first_token', delay_ms: 60, text: 'late' } });
    const r = await chat(chatBody('m', false));
    expectCompletion(r, 'm', 'late');
    expect(r.ms).toBeGreaterThanOrEqual(55);
    expect(r.ms).toBeLessThan(2000);
  });
});

describe('empty', () => {
  it('non-stream: content ""', async () => {
    await start({ m: { kind: 'empty' } });
    expectCompletion(await chat(chatBody('m', false)), 'm', '');
  });

  it('stream: role chunk then finish chunk, no content', async () => {
    await start({ m: { kind: 'empty' } });
    const r = await streamChat(chatBody('m', true));
    const chunks = expectWellFormedStream(r, { model: 'm', includeUsage: true });
    expect(chunks.map((c) => c.choices[0]?.delta ?? 'usage')).toEqual([
      { role: 'assistant', content: '', refusal: null },
      {},
      'usage',
    ]);
    expect(chunks.at(-1)?.usage).toMatchObject({ completion_tokens: 0 });
  });
});

describe('missing_done', () => {
  it('stream: finish + usage chunks but no [DONE], clean close', async () => {
    await start({ m: { kind: 'missing_done' } });
    const r = await streamChat(chatBody('m', true));
    const chunks = expectWellFormedStream(r, { model: 'm', includeUsage: true, done: false });
    expect(contentOf(chunks)).toBe(DEFAULT_TEXT);
    expect(r.raw).not.toContain('[DONE]');
  });

  it('non-stream: normal response', async () => {
    await start({ m: { kind: 'missing_done' } });
    expectCompletion(await chat(chatBody('m', false)), 'm', DEFAULT_TEXT);
  });
});

describe('malformed_chunk', () => {
  it('stream: invalid JSON data line after N good content chunks, then continues', async () => {
    await start({ m: { kind: 'malformed_chunk', after_chunks: 2, text: 'a b c d' } });
    const r = await streamChat(chatBody('m', true));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const data = r.events.map((e) => e.data);
    expect(data[3]).toBe('{"id": "chatcmpl-x", "choi');
    expect(() => JSON.parse(data[3] ?? '')).toThrow();
    const good = data.filter((d, i) => i !== 3 && d !== '[DONE]').map((d) => JSON.parse(d) as Chunk);
    for (const c of good) expectValid('CreateChatCompletionStreamResponse', c);
    expect(good.slice(1, 3).map((c) => c.choices[0]?.delta)).toEqual([{ content: 'a' }, { content: ' b' }]);
    expect(contentOf(good)).toBe('a b c d');
    expect(data.at(-1)).toBe('[DONE]');
  });

  it('non-stream: 200 with truncated JSON', async () => {
    await start({ m: { kind: 'malformed_chunk', after_chunks: 2 } });
    const r = await chat(chatBody('m', false));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(() => JSON.parse(r.text)).toThrow();
  });
});

describe('garbage', () => {
  it.each(MODES)('%s: 200 with a body that is neither JSON nor SSE', async (_name, stream) => {
    await start({ m: { kind: 'garbage' } });
    const r = await chat(chatBody('m', stream));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(stream ? 'text/event-stream; charset=utf-8' : 'application/json');
    expect(r.text).toContain('502 Bad Gateway');
    expect(() => JSON.parse(r.text)).toThrow();
    expect(r.text).not.toMatch(/^data:/m);
  });
});

describe('stall', () => {
  it('stream: silent for stall_ms after N chunks, then completes', async () => {
    await start({ m: { kind: 'stall', after_chunks: 2, stall_ms: 80, text: 'a b c d' } });
    const r = await streamChat(chatBody('m', true));
    const chunks = expectWellFormedStream(r, { model: 'm', includeUsage: true });
    expect(contentOf(chunks)).toBe('a b c d');
    const before = r.events[2]?.at ?? 0; // role + 2 content chunks
    const after = r.events[3]?.at ?? 0;
    expect(before).toBeLessThan(60);
    expect(after - before).toBeGreaterThanOrEqual(75);
    expect(after).toBeLessThan(2000);
  });

  it('stream: stalls forever without stall_ms; close() ends it promptly', async () => {
    const s = await start({ m: { kind: 'stall', after_chunks: 1 } });
    const pending = streamChat(chatBody('m', true));
    await new Promise((r) => setTimeout(r, 100));
    expect(s.openConnections()).toBe(1);
    const t0 = performance.now();
    await s.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    const r = await pending;
    expect(r.error).toBeDefined();
    expect(chunksOf(r).map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: '', refusal: null },
      { content: 'Hello' },
    ]);
    expect(s.openConnections()).toBe(0);
  });

  it('non-stream: delayed by stall_ms', async () => {
    await start({ m: { kind: 'stall', after_chunks: 1, stall_ms: 60 } });
    const r = await chat(chatBody('m', false));
    expectCompletion(r, 'm', DEFAULT_TEXT);
    expect(r.ms).toBeGreaterThanOrEqual(55);
    expect(r.ms).toBeLessThan(2000);
  });
});

// ---------------------------------------------------------------------------------------------
// Socket-level failures
// ---------------------------------------------------------------------------------------------

describe('reset', () => {
  it.each(MODES)('%s: connection reset after the request is read', async (_name, stream) => {
    const s = await start({ m: { kind: 'reset' } });
    const err = await chat(chatBody('m', stream)).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err).toBeDefined();
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(err?.code);
    expect(s.callsFor('m').map((c) => c.outcome)).toEqual(['reset']);
    await waitFor(() => s.openConnections() === 0);
  });
});

describe('cut', () => {
  it('stream: role + N content chunks, then the socket dies (no finish, no [DONE])', async () => {
    await start({ m: { kind: 'cut', after_chunks: 2 } });
    const r = await streamChat(chatBody('m', true));
    expect(r.status).toBe(200);
    expect(r.error?.code).toBe('UND_ERR_SOCKET');
    const chunks = chunksOf(r);
    for (const c of chunks) expectValid('CreateChatCompletionStreamResponse', c);
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: '', refusal: null },
      { content: 'Hello' },
      { content: ' from' },
    ]);
    expect(chunks.every((c) => c.choices[0]?.finish_reason === null)).toBe(true);
    expect(r.raw).not.toContain('[DONE]');
  });

  it('stream: after_chunks beyond the text still cuts before the finish chunk', async () => {
    await start({ m: { kind: 'cut', after_chunks: 6, text: 'ab' } });
    const r = await streamChat(chatBody('m', true));
    expect(r.error).toBeDefined();
    const chunks = chunksOf(r);
    expect(contentChunks(chunks)).toHaveLength(6);
    expect(chunks.every((c) => c.choices[0]?.finish_reason === null)).toBe(true);
  });

  it('non-stream: full content-length announced, half the body sent, then the socket dies', async () => {
    await start({ m: { kind: 'cut', after_chunks: 2 } });
    const res = await request(`${current().url}/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      body: JSON.stringify(chatBody('m', false)),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const announced = Number(res.headers['content-length']);
    expect(announced).toBeGreaterThan(100);
    let received = 0;
    const err = await (async () => {
      try {
        for await (const part of res.body) received += (part as Buffer).length;
        return undefined;
      } catch (e) {
        return e as Error & { code?: string };
      }
    })();
    expect(err?.code).toBe('UND_ERR_SOCKET');
    expect(received).toBe(Math.floor(announced / 2));
  });
});

describe('no_response', () => {
  it.each(MODES)('%s: the request is held open until the client aborts', async (_name, stream) => {
    const s = await start({ m: { kind: 'no_response' } });
    const ac = new AbortController();
    const pending = chat(chatBody('m', stream)).catch((e: unknown) => e);
    const aborted = http('POST', '/chat/completions', { body: JSON.stringify(chatBody('m', stream)), signal: ac.signal }).then(
      () => 'answered',
      (e: unknown) => (e as Error).name,
    );
    await waitFor(() => s.openConnections() === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.openConnections()).toBe(2);
    expect(s.calls.map((c) => c.outcome)).toEqual(['no_response', 'no_response']);
    ac.abort();
    expect(await aborted).toBe('AbortError');
    await waitFor(() => s.openConnections() === 1);
    const t0 = performance.now();
    await s.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
    expect(s.openConnections()).toBe(0);
  });
});

describe('client disconnects', () => {
  it('aborting a slow stream frees the connection and stops the timers', async () => {
    const s = await start({ m: { kind: 'ok', chunks: 20, chunk_delay_ms: 20 } });
    const ac = new AbortController();
    const res = await request(`${s.url}/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      body: JSON.stringify(chatBody('m', true)),
      headers: { 'content-type': 'application/json' },
      signal: ac.signal,
    });
    expect(res.statusCode).toBe(200);
    const reading = res.body.text().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.openConnections()).toBe(1);
    ac.abort();
    await reading;
    await waitFor(() => s.openConnections() === 0);
  });

  it('aborting during latency_ms frees the connection', async () => {
    const s = await start({ m: { kind: 'ok', latency_ms: 10_000 } });
    const ac = new AbortController();
    const pending = chat(chatBody('m', false)).catch((e: unknown) => e);
    const aborted = http('POST', '/chat/completions', { body: JSON.stringify(chatBody('m', false)), signal: ac.signal }).catch(
      (e: unknown) => e,
    );
    await waitFor(() => s.openConnections() === 2);
    ac.abort();
    await aborted;
    await waitFor(() => s.openConnections() === 1);
    const t0 = performance.now();
    await s.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

// ---------------------------------------------------------------------------------------------
// Composite scenarios, bookkeeping
// ---------------------------------------------------------------------------------------------

describe('fail_first', () => {
  it.each(MODES)('%s: first n calls fail, then succeed; counter per model', async (_name, stream) => {
    const flaky: Scenario = { kind: 'fail_first', n: 2, failure: { kind: 'status', status: 500 }, then: { kind: 'ok' } };
    const s = await start({ a: flaky, b: flaky });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat(chatBody('a', stream))).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect((await chat(chatBody('b', stream))).status).toBe(500);
    expect(s.callsFor('a').map((c) => c.outcome)).toEqual(['status', 'status', 'ok', 'ok']);
    expect(s.callsFor('a').every((c) => c.stream === stream)).toBe(true);
    expect(s.callsFor('b').map((c) => c.outcome)).toEqual(['status']);
  });

  it('setModel resets that model only; reset() clears calls and all counters', async () => {
    const flaky: Scenario = { kind: 'fail_first', n: 1, failure: { kind: 'rate_limit' }, then: { kind: 'ok' } };
    const s = await start({ a: flaky, b: flaky });
    expect((await chat(chatBody('a', false))).status).toBe(429);
    expect((await chat(chatBody('b', false))).status).toBe(429);
    s.setModel('a', flaky);
    expect((await chat(chatBody('a', false))).status).toBe(429);
    expect((await chat(chatBody('b', false))).status).toBe(200);
    expect(s.calls).toHaveLength(4);
    s.reset();
    expect(s.calls).toHaveLength(0);
    expect((await chat(chatBody('b', false))).status).toBe(429);
    s.setModel('new', { kind: 'empty' });
    expect((await chat(chatBody('new', false))).status).toBe(200);
    expect(s.calls.map((c) => `${c.model}:${c.outcome}`)).toEqual(['b:rate_limit', 'new:empty']);
  });

  it('setModel validates the scenario', async () => {
    const s = await start({});
    expect(() => s.setModel('x', { kind: 'status', status: 200 })).toThrow();
    expect(() => createSimulator({ models: { x: { kind: 'nope' } as unknown as Scenario } })).toThrow();
  });
});

describe('outage', () => {
  it('follows the schedule of an injected clock (no sleeping)', async () => {
    let now = 1_000_000;
    const clock: SimClock = { now: () => now };
    const s = await start(
      {
        m: { kind: 'outage', down_ms: 100, every_ms: 1000, then: { kind: 'ok' } },
        shifted: { kind: 'outage', down_ms: 100, every_ms: 1000, offset_ms: 950, failure: { kind: 'rate_limit' }, then: { kind: 'empty' } },
      },
      { clock },
    );
    const statusAt = async (t: number, model = 'm'): Promise<number> => {
      now = t;
      return (await chat(chatBody(model, true))).status;
    };
    expect(await statusAt(1_000_000)).toBe(503);
    expect(await statusAt(1_000_099)).toBe(503);
    expect(await statusAt(1_000_100)).toBe(200);
    expect(await statusAt(1_000_999)).toBe(200);
    expect(await statusAt(1_001_000)).toBe(503);
    expect(await statusAt(1_005_050)).toBe(503);
    expect(await statusAt(1_005_500)).toBe(200);
    expect(s.callsFor('m').map((c) => c.outcome)).toEqual(['status', 'status', 'ok', 'ok', 'status', 'status', 'ok']);
    expect(s.callsFor('m').map((c) => c.at)).toEqual([1_000_000, 1_000_099, 1_000_100, 1_000_999, 1_001_000, 1_005_050, 1_005_500]);

    const down = await chat(chatBody('m', false));
    expect(down.status).toBe(200); // still at 1_005_500
    now = 1_000_000;
    expectError(await chat(chatBody('m', false)), 503, { type: 'server_error' });

    expect(await statusAt(1_000_000, 'shifted')).toBe(200);
    expect(await statusAt(1_000_050, 'shifted')).toBe(429);
    expect(await statusAt(1_000_150, 'shifted')).toBe(200);
  });
});

describe('lifecycle', () => {
  it('close() is idempotent and works before listen()', async () => {
    const idle = createSimulator({ models: {} });
    await idle.close();
    const s = await start({ m: { kind: 'ok' } });
    await chat(chatBody('m', false));
    await Promise.all([s.close(), s.close()]);
    expect(s.openConnections()).toBe(0);
  });

  it('close() finishes promptly with slow, stalled and unanswered requests open', async () => {
    const s = await start({
      hang: { kind: 'no_response' },
      stall: { kind: 'stall', after_chunks: 0 },
      slow: { kind: 'slow_first_token', delay_ms: 60_000 },
      late: { kind: 'ok', latency_ms: 60_000 },
    });
    const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const pending = ['hang', 'stall', 'slow', 'late'].map((m) => streamChat(chatBody(m, true)).catch((e: unknown) => e));
    await waitFor(() => s.openConnections() === 4);
    await new Promise((r) => setTimeout(r, 20));
    const timersWhileOpen = timeouts();
    const t0 = performance.now();
    await s.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    await Promise.all(pending);
    expect(s.openConnections()).toBe(0);
    // the 60 s timers of `slow` and `late` were cleared, not left to keep the process alive
    expect(timeouts()).toBeLessThanOrEqual(timersWhileOpen - 2);
  });
});
