/**
 * Bad input over raw HTTP: every problem is a 4xx in OpenAI's error shape naming the problem,
 * the request is still logged, and the gateway keeps serving. Plus GET /v1/models and /health.
 */
import { Readable } from 'node:stream';
import { request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import { USER_MESSAGES, chat, expectServed, type Harness, useHarness } from './harness.js';

const TEXT = 'All good from the simulator.';
const BODY_LIMIT = 4_096;

const start = useHarness();
let h: Harness;

beforeEach(async () => {
  h = await start({
    simulators: { sim: { primary: { kind: 'ok', text: TEXT }, backup: { kind: 'ok' } } },
    routes: {
      chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }] },
      'support-chat': { ladder: [{ targets: 'sim/backup' }, { static: 'Sorry.' }] },
    },
    server: { body_limit_bytes: BODY_LIMIT },
  });
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
  text: string;
}

async function send(path: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Raw> {
  const origin = h.gateway.url.replace(/\/v1$/, '');
  const res = await request(`${origin}${path}`, {
    method: (init.method ?? 'POST') as 'POST',
    headers: init.body !== undefined ? { 'content-type': 'application/json', ...init.headers } : init.headers,
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, json, text };
}

const post = (body: unknown): Promise<Raw> => send('/v1/chat/completions', { body: typeof body === 'string' ? body : JSON.stringify(body) });

/** A 4xx with `{error:{message,type,param,code}}`; returns the error object. */
function expectError(res: Raw, status: number, code: string, param: string | null): { message: string; type: string; param: string | null; code: string } {
  expect(res.status, res.text).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
  const body = res.json as { error: { message: string; type: string; param: string | null; code: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.code).toBe(code);
  expect(body.error.param).toBe(param);
  expect(body.error.type).toBe('invalid_request_error');
  expect(body.error.message.length).toBeGreaterThan(10);
  return body.error;
}

/** After each bad request the gateway still serves a normal one. */
async function expectStillServing(): Promise<void> {
  const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
  expectServed(out, { servedBy: 'sim/primary', model: 'primary', text: TEXT, attempts: 1, reason: undefined });
}

describe('bad input on POST /v1/chat/completions', () => {
  const cases: { name: string; body: unknown; code: string; param: string | null; mentions: RegExp }[] = [
    { name: 'invalid JSON', body: '{"model": "chat", "messages": [', code: 'invalid_json', param: null, mentions: /JSON/ },
    { name: 'an empty body', body: '', code: 'invalid_json', param: null, mentions: /JSON/ },
    { name: 'JSON that is not an object (array)', body: '[1, 2]', code: 'invalid_json', param: null, mentions: /JSON object/ },
    { name: 'JSON that is not an object (string)', body: '"hello"', code: 'invalid_json', param: null, mentions: /JSON object/ },
    { name: 'JSON null', body: 'null', code: 'invalid_json', param: null, mentions: /JSON object/ },
    { name: 'messages not an array', body: { model: 'chat', messages: 'hi' }, code: 'invalid_type', param: 'messages', mentions: /messages/ },
    { name: 'temperature a string', body: { model: 'chat', messages: USER_MESSAGES, temperature: 'hot' }, code: 'invalid_type', param: 'temperature', mentions: /temperature/ },
    { name: 'temperature out of range', body: { model: 'chat', messages: USER_MESSAGES, temperature: 7 }, code: 'invalid_value', param: 'temperature', mentions: /temperature/ },
    { name: 'stream not a boolean', body: { model: 'chat', messages: USER_MESSAGES, stream: 'yes' }, code: 'invalid_type', param: 'stream', mentions: /stream/ },
    { name: 'a message with an unknown role', body: { model: 'chat', messages: [{ role: 'robot', content: 'x' }] }, code: 'invalid_value', param: 'messages[0].role', mentions: /messages\[0\]\.role/ },
    { name: 'missing messages', body: { model: 'chat' }, code: 'missing_required_parameter', param: 'messages', mentions: /messages/ },
    { name: 'missing model', body: { messages: USER_MESSAGES }, code: 'missing_required_parameter', param: 'model', mentions: /model/ },
    { name: 'model not a string', body: { model: 42, messages: USER_MESSAGES }, code: 'invalid_type', param: 'model', mentions: /model/ },
    { name: 'empty messages', body: { model: 'chat', messages: [] }, code: 'invalid_value', param: 'messages', mentions: /at least one message/ },
    { name: 'a fallback_models entry that is not a string', body: { model: 'chat', messages: USER_MESSAGES, fallback_models: [7] }, code: 'invalid_type', param: 'fallback_models[0]', mentions: /fallback_models\[0\]/ },
  ];

  it.each(cases)('$name → 400 naming the problem', async (c) => {
    const res = await post(c.body);
    const error = expectError(res, 400, c.code, c.param);
    expect(error.message).toMatch(c.mentions);
    expect(h.sim.calls).toHaveLength(0);
    const record = await h.record(String(res.headers['x-request-id']));
    expect(record).toMatchObject({ status: 400, rejected: c.code, attempts: [] });
    await expectStillServing();
  });

  it('unknown route → 404 model_not_found naming the model', async () => {
    const res = await post({ model: 'no-such-route', messages: USER_MESSAGES });
    const error = expectError(res, 404, 'model_not_found', 'model');
    expect(error.message).toContain("'no-such-route'");
    expect(error.message).toContain('/v1/models');
    const record = await h.record(String(res.headers['x-request-id']));
    expect(record).toMatchObject({ status: 404, route: 'no-such-route', rejected: 'model_not_found' });
    await expectStillServing();
  });

  it('a fallback_models entry that is not a configured provider/model → 400', async () => {
    const res = await post({ model: 'chat', messages: USER_MESSAGES, fallback_models: ['sim/backup', 'nowhere/model'] });
    const error = expectError(res, 400, 'invalid_fallback_models', 'fallback_models[1]');
    expect(error.message).toContain("'nowhere/model'");
    expect(h.sim.calls).toHaveLength(0);
    await expectStillServing();
  });

  it('too many fallback_models → 400', async () => {
    const res = await post({ model: 'chat', messages: USER_MESSAGES, fallback_models: Array.from({ length: 11 }, () => 'sim/backup') });
    const error = expectError(res, 400, 'invalid_fallback_models', 'fallback_models');
    expect(error.message).toMatch(/at most 10/);
    await expectStillServing();
  });

  it('a body over server.body_limit_bytes → 413', async () => {
    const big = { model: 'chat', messages: [{ role: 'user', content: 'x'.repeat(BODY_LIMIT * 2) }] };
    const res = await post(big);
    const error = expectError(res, 413, 'request_too_large', null);
    expect(error.message).toContain(String(BODY_LIMIT));
    const record = await h.record(String(res.headers['x-request-id']));
    expect(record).toMatchObject({ status: 413, rejected: 'request_too_large' });
    expect(h.sim.calls).toHaveLength(0);
    await expectStillServing();
  });

  it('a chunked body over the limit (no content-length) → 413', async () => {
    const origin = h.gateway.url.replace(/\/v1$/, '');
    const payload = Buffer.from(JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'y'.repeat(BODY_LIMIT * 4) }] }));
    const pieces: Buffer[] = [];
    for (let i = 0; i < payload.length; i += 1024) pieces.push(payload.subarray(i, i + 1024));
    const body = Readable.from(pieces);
    const res = await request(`${origin}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch(
      (error: unknown) => error,
    );
    // The gateway may answer 413 before the whole body is sent; either way no upstream call is made.
    if (!(res instanceof Error)) {
      const r = res as Awaited<ReturnType<typeof request>>;
      expect(r.statusCode).toBe(413);
      const json = (await r.body.json()) as { error: { code: string } };
      expect(json.error.code).toBe('request_too_large');
    }
    expect(h.sim.calls).toHaveLength(0);
    await expectStillServing();
  });

  it('wrong method → 405 with Allow', async () => {
    const res = await send('/v1/chat/completions', { method: 'GET' });
    const error = expectError(res, 405, 'method_not_allowed', null);
    expect(res.headers.allow).toBe('POST');
    expect(error.message).toMatch(/GET/);
    const models = await send('/v1/models', { method: 'DELETE' });
    expectError(models, 405, 'method_not_allowed', null);
    expect(models.headers.allow).toBe('GET');
    await expectStillServing();
  });

  it('unknown path → 404 naming the path', async () => {
    const res = await send('/v1/completions', { body: JSON.stringify({ model: 'chat', prompt: 'hi' }) });
    const error = expectError(res, 404, 'not_found', null);
    expect(error.message).toContain('/v1/completions');
    await expectStillServing();
  });

  it('an x-request-id from the client is echoed', async () => {
    const res = await send('/v1/chat/completions', { body: '{', headers: { 'x-request-id': 'client-id-123' } });
    expect(res.status).toBe(400);
    expect(res.headers['x-request-id']).toBe('client-id-123');
  });

  it('unknown fields pass through to the upstream untouched', async () => {
    const res = await post({ model: 'chat', messages: USER_MESSAGES, seed: 7, metadata: { a: 'b' } });
    expect(res.status).toBe(200);
    expect(h.sim.callsFor('primary')[0]?.body).toMatchObject({ seed: 7, metadata: { a: 'b' }, model: 'primary' });
  });
});

describe('GET /v1/models and /health', () => {
  it('lists routes and their targets in OpenAI list shape', async () => {
    const res = await send('/v1/models', { method: 'GET' });
    expect(res.status).toBe(200);
    const body = res.json as { object: string; data: { id: string; object: string; created: number; owned_by: string }[] };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => [m.id, m.owned_by])).toEqual([
      ['chat', 'understudy-route'],
      ['support-chat', 'understudy-route'],
      ['sim/primary', 'sim'],
      ['sim/backup', 'sim'],
    ]);
    for (const m of body.data) {
      expect(m.object).toBe('model');
      expect(Number.isInteger(m.created)).toBe(true);
    }
  });

  it('the SDK lists the same models', async () => {
    const ids: string[] = [];
    for await (const model of h.client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['chat', 'support-chat', 'sim/primary', 'sim/backup']);
  });

  it('GET /health → 200 {status: ok}', async () => {
    const res = await send('/health', { method: 'GET' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });
});
