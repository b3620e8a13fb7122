/**
 * Virtual keys over real sockets, with the official openai and Anthropic SDKs: 401 / 403 / 429 in
 * each inbound API's own error shape, allow-lists bounding the ladder (direct models,
 * fallback_models, targets inside a route, the continuation walk), the per-key degradation cache,
 * /v1/models per key, the request record's key id, and the admin API's /admin/keys.
 */
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { FileKeyStore } from '../../src/keys/file-key-store.js';
import type { KeyRecord } from '../../src/keys/key-record.js';
import { issueKey, type KeySpec } from '../../src/keys/key-spec.js';
import { chat, USER_MESSAGES, useHarness, type Harness, type HarnessOptions } from './harness.js';

const start = useHarness();
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const ADMIN_KEY = 'adm-0123456789abcdef';
const A = 'Answer from target A.';
const B = 'Answer from target B.';

interface Keyed {
  h: Harness;
  store: FileKeyStore;
  issue(spec?: Partial<KeySpec>, record?: Partial<KeyRecord>): Promise<{ plain: string; record: KeyRecord }>;
  openai(key: string): OpenAI;
  anthropic(key: string): Anthropic;
}

/** A gateway over one simulator (models a, b, down, embed) whose key store is a fresh file. */
async function setup(extra: Partial<HarnessOptions> = {}): Promise<Keyed> {
  const dir = mkdtempSync(join(tmpdir(), 'understudy-keys-it-'));
  dirs.push(dir);
  const store = await FileKeyStore.open(join(dir, 'keys.json'), { recheckMs: 0 });
  const h = await start({
    simulators: { sim: { a: { kind: 'ok', text: A }, b: { kind: 'ok', text: B }, down: { kind: 'status', status: 503 }, 'text-embedding-3-small': { kind: 'ok' } } },
    routes: {
      chat: { ladder: [{ targets: 'sim/a' }, { targets: 'sim/b' }] },
      other: { ladder: [{ targets: 'sim/b' }] },
      embed: { kind: 'embeddings', ladder: [{ targets: 'sim/text-embedding-3-small' }] },
    },
    server: { admin_key: ADMIN_KEY },
    ...extra,
    gatewayOptions: { keys: store, ...extra.gatewayOptions },
  });
  return {
    h,
    store,
    async issue(spec = {}, record = {}) {
      const issued = issueKey({ name: 'test', ...spec }, Date.now());
      const stored = { ...issued.record, ...record };
      await store.create(stored);
      return { plain: issued.plain, record: stored };
    },
    openai: (key) => new OpenAI({ baseURL: h.gateway.url, apiKey: key, maxRetries: 0 }),
    anthropic: (key) => new Anthropic({ baseURL: h.origin, apiKey: key, maxRetries: 0 }),
  };
}

/** The openai SDK's error for a request that must fail. */
async function rejected(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

/** The Anthropic SDK's error for a request that must fail. */
async function refused(promise: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Anthropic.APIError);
  return error as InstanceType<typeof Anthropic.APIError>;
}

/** A streamed chat through the openai SDK, keeping the text (the model may change at a splice). */
async function streamText(client: OpenAI): Promise<{ text: string; requestId: string | null; error?: unknown }> {
  const { data, response } = await client.chat.completions.create({ model: 'chat', messages: USER_MESSAGES, stream: true }).withResponse();
  let text = '';
  try {
    for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
  } catch (error) {
    return { text, requestId: response.headers.get('x-request-id'), error };
  }
  return { text, requestId: response.headers.get('x-request-id') };
}

const ask = (model = 'chat', extra: Record<string, unknown> = {}): OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming =>
  ({ model, messages: USER_MESSAGES, ...extra }) as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
const message = (model = 'chat'): Anthropic.MessageCreateParamsNonStreaming => ({ model, max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] });

/** A raw request (for what the SDKs will not send: no key at all). */
async function raw(h: Harness, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(`${h.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown> };
}

describe('virtual keys: open mode', () => {
  it('with no keys the gateway is open: any key or none is accepted, and /v1/models lists everything', async () => {
    const { h, openai } = await setup();
    expect((await openai('whatever').chat.completions.create(ask())).choices[0]?.message.content).toBe(A);
    expect((await raw(h, '/v1/chat/completions', ask())).status).toBe(200);
    const models = await openai('whatever').models.list();
    expect(models.data.map((m) => m.id).sort()).toEqual(['chat', 'embed', 'other', 'sim/a', 'sim/b', 'sim/text-embedding-3-small']);
    expect((await h.record()).keyId).toBeUndefined();
  });
});

describe('virtual keys: 401', () => {
  it('OpenAI shape on /v1/chat/completions and /v1/embeddings: missing, unknown, revoked, expired', async () => {
    const { h, issue, store, openai } = await setup();
    const valid = await issue();
    const revoked = await issue({ name: 'revoked' });
    await store.revoke(revoked.record.id, new Date().toISOString());
    const expired = await issue({ name: 'expired' }, { expires_at: new Date(Date.now() - 1_000).toISOString() });

    const missing = await raw(h, '/v1/chat/completions', ask());
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    expect(missing.json).toEqual({ error: { message: expect.stringContaining('requires an API key'), type: 'invalid_request_error', param: null, code: 'missing_api_key' } });

    const unknown = await rejected(openai(`${valid.plain.slice(0, -2)}xx`).chat.completions.create(ask()));
    expect(unknown).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(unknown.code).toBe('invalid_api_key');
    expect(unknown.message).not.toContain(valid.plain.slice(4, 20));
    expect((await rejected(openai(revoked.plain).chat.completions.create(ask()))).code).toBe('revoked_api_key');
    const late = await rejected(openai(expired.plain).chat.completions.create(ask()));
    expect(late.code).toBe('expired_api_key');
    expect(late.message).toContain(expired.record.id);

    const embeddings = await rejected(openai('usk_wrong').embeddings.create({ model: 'embed', input: 'hi' }));
    expect(embeddings.status).toBe(401);
    expect(embeddings.code).toBe('invalid_api_key');
    expect((await raw(h, '/v1/embeddings', { model: 'embed', input: 'hi' })).status).toBe(401);
    expect(h.sim.calls).toHaveLength(0);

    // The valid key works; refused requests are logged with the key id when one was presented, never the key.
    expect((await openai(valid.plain).chat.completions.create(ask())).choices[0]?.message.content).toBe(A);
    const revokedRecord = h.records.find((r) => r.rejected === 'revoked_api_key');
    expect(revokedRecord?.keyId).toBe(revoked.record.id);
    expect(JSON.stringify(h.records)).not.toContain(valid.plain);
  });

  it('Anthropic shape on /v1/messages: missing, unknown, revoked, expired (x-api-key)', async () => {
    const { h, issue, store, anthropic } = await setup();
    await issue();
    const revoked = await issue({ name: 'revoked' });
    await store.revoke(revoked.record.id, new Date().toISOString());
    const expired = await issue({ name: 'expired' }, { expires_at: new Date(Date.now() - 1_000).toISOString() });

    const missing = await raw(h, '/v1/messages', message());
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual({ type: 'error', error: { type: 'authentication_error', message: expect.stringContaining('x-api-key') } });
    for (const [key, text] of [
      ['usk_nope', 'Invalid API key'],
      [revoked.plain, 'was revoked'],
      [expired.plain, 'expired at'],
    ] as const) {
      const error = await refused(anthropic(key).messages.create(message()));
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      expect((error.error as { error?: { type?: string; message?: string } }).error).toMatchObject({ type: 'authentication_error', message: expect.stringContaining(text) });
    }
    expect(h.sim.calls).toHaveLength(0);
  });

  it('accepts the key as Authorization: Bearer or x-api-key, on either API', async () => {
    const { h, issue } = await setup();
    const { plain } = await issue();
    expect((await raw(h, '/v1/chat/completions', ask(), { 'x-api-key': plain })).status).toBe(200);
    expect((await raw(h, '/v1/messages', message(), { authorization: `Bearer ${plain}` })).status).toBe(200);
  });
});

describe('virtual keys: 403', () => {
  it('a route, a direct model or a fallback_models entry outside the allow-lists, in both shapes, before any upstream call', async () => {
    const { h, issue, openai, anthropic } = await setup();
    const { plain } = await issue({ routes: ['chat'], targets: ['sim/a', 'sim/b'] });

    const route = await rejected(openai(plain).chat.completions.create(ask('other')));
    expect(route).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(route.code).toBe('route_not_allowed');
    expect(route.message).toContain("route 'other'");

    const direct = await rejected(openai(plain).chat.completions.create(ask('sim/down')));
    expect(direct.status).toBe(403);
    expect(direct.code).toBe('model_not_allowed');
    // A model that does not exist is refused the same way: a key learns nothing outside its allow-lists.
    expect((await rejected(openai(plain).chat.completions.create(ask('nowhere/model')))).status).toBe(403);

    const fallback = await rejected(openai(plain).chat.completions.create(ask('chat', { fallback_models: ['sim/b', 'sim/down'] })));
    expect(fallback.status).toBe(403);
    expect(fallback.param).toBe('fallback_models[1]');
    expect(fallback.message).toContain("fallback_models[1] 'sim/down'");

    const claude = await refused(anthropic(plain).messages.create(message('other')));
    expect(claude).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((claude.error as { error?: { type?: string } }).error?.type).toBe('permission_error');

    const embeddings = await rejected(openai(plain).embeddings.create({ model: 'embed', input: 'hi' }));
    expect(embeddings.status).toBe(403);
    expect(h.sim.calls).toHaveLength(0);
    const record = await h.record();
    expect(record).toMatchObject({ status: 403, rejected: 'route_not_allowed' });
  });

  it('a direct provider/model and provider/* entries allow exactly what they name', async () => {
    const { issue, openai } = await setup();
    const { plain } = await issue({ routes: ['chat'], targets: ['sim/*'] });
    expect((await openai(plain).chat.completions.create(ask('sim/b'))).choices[0]?.message.content).toBe(B);
    const narrow = await issue({ name: 'narrow', routes: ['chat'], targets: ['sim/a'] });
    expect((await rejected(openai(narrow.plain).chat.completions.create(ask('sim/b')))).status).toBe(403);
  });

  it('a route whose every target is outside the key’s targets is a 403, not a walk that skips everything', async () => {
    const { issue, openai } = await setup();
    const { plain } = await issue({ routes: ['*'], targets: ['sim/a'] });
    const error = await rejected(openai(plain).chat.completions.create(ask('other')));
    expect(error.status).toBe(403);
    expect(error.message).toContain("none of the targets of 'other'");
  });
});

describe('virtual keys: the allow-lists bound the ladder', () => {
  it('inside an allowed route, a target the key may not use is skipped (recorded, with the reason) and the next one serves', async () => {
    const { h, issue, openai } = await setup();
    const { plain, record: key } = await issue({ routes: ['chat'], targets: ['sim/b'] });
    for (const mode of ['non-stream', 'stream'] as const) {
      const out = await chat(openai(plain), mode, { model: 'chat', messages: USER_MESSAGES });
      expect(out.status).toBe(200);
      expect(out.text).toBe(B);
      expect(out.headers.get('x-understudy-served-by')).toBe('sim/b');
      expect(out.headers.get('x-understudy-skipped')).toBe('sim/a (not allowed for this API key)');
      expect(out.headers.get('x-understudy-attempts')).toBe('1');
      const record = await h.record(out.headers.get('x-request-id'));
      expect(record.keyId).toBe(key.id);
      expect(record.attempts[0]).toMatchObject({ target: 'sim/a', outcome: 'skipped', skipReason: 'not allowed for this API key' });
    }
    expect(h.sim.callsFor('a')).toHaveLength(0);
  });

  it('an allowed route serves as usual, through the Anthropic API too', async () => {
    const { issue, anthropic } = await setup();
    const { plain } = await issue({ routes: ['chat'] });
    const answer = await anthropic(plain).messages.create(message());
    expect(answer.content).toEqual([{ type: 'text', text: A }]);
  });

  it('the continuation walk skips targets the key may not use', async () => {
    const text = 'Tides rise and fall twice a day because the Moon pulls the oceans toward it while the Earth turns beneath them.';
    const { h, issue, openai } = await setup({
      simulators: { sim: { primary: { kind: 'cut', after_chunks: 5, text }, forbidden: { kind: 'ok', text }, backup: { kind: 'ok', text } } },
      routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/forbidden' }, { targets: 'sim/backup' }] } },
    });
    const { plain } = await issue({ targets: ['sim/primary', 'sim/backup'] });
    const out = await streamText(openai(plain));
    expect(out.error).toBeUndefined();
    expect(out.text).toBe(text);
    const record = await h.record(out.requestId);
    expect(record.contributors).toEqual(['sim/primary', 'sim/backup']);
    // Skipped by the continuation walk: after the primary's stream failed (the main walk committed before reaching it).
    const failed = record.attempts.find((a) => a.target === 'sim/primary' && a.outcome === 'failed');
    const skipped = record.attempts.filter((a) => a.target === 'sim/forbidden');
    expect(skipped).toEqual([expect.objectContaining({ outcome: 'skipped', skipReason: 'not allowed for this API key' })]);
    expect(skipped[0]?.ordinal).toBeGreaterThan(failed?.ordinal ?? Number.POSITIVE_INFINITY);
    expect(h.sim.callsFor('forbidden')).toHaveLength(0);
  });

  it('embeddings: a target the key may not use is skipped too', async () => {
    const { h, issue, openai } = await setup({
      simulators: { east: { 'text-embedding-3-small': { kind: 'ok' } }, west: { 'text-embedding-3-small': { kind: 'ok' } } },
      routes: { embed: { kind: 'embeddings', ladder: [{ targets: ['east/text-embedding-3-small'] }, { targets: ['west/text-embedding-3-small'] }] } },
    });
    const { plain } = await issue({ targets: ['west/*'] });
    const { response } = await openai(plain).embeddings.create({ model: 'embed', input: 'hello' }).withResponse();
    expect(response.headers.get('x-understudy-served-by')).toBe('west/text-embedding-3-small');
    expect(response.headers.get('x-understudy-skipped')).toContain('east/text-embedding-3-small (not allowed for this API key)');
    expect(h.sims.east?.calls).toHaveLength(0);
  });
});

describe('virtual keys: rate limits', () => {
  it('over rpm: 429 with retry-after and retry-after-ms, in both shapes, before any upstream call', async () => {
    const { h, issue, openai, anthropic } = await setup();
    const { plain, record: key } = await issue({ rpm: 2 });
    await openai(plain).chat.completions.create(ask());
    await anthropic(plain).messages.create(message());
    const calls = h.sim.calls.length;
    const error = await rejected(openai(plain).chat.completions.create(ask()));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.message).toContain(key.id);
    const seconds = Number(error.headers?.get('retry-after'));
    const ms = Number(error.headers?.get('retry-after-ms'));
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(60_000);
    expect(seconds).toBe(Math.max(1, Math.ceil(ms / 1000)));
    const claude = await refused(anthropic(plain).messages.create(message()));
    expect(claude).toBeInstanceOf(Anthropic.RateLimitError);
    expect((claude.error as { error?: { type?: string } }).error?.type).toBe('rate_limit_error');
    expect(claude.headers?.get('retry-after')).toBeTruthy();
    expect(h.sim.calls).toHaveLength(calls);
    // Another key has its own window.
    const other = await issue({ name: 'other', rpm: 2 });
    expect((await openai(other.plain).chat.completions.create(ask())).choices[0]?.message.content).toBe(A);
  });

  it('over tpm: the prompt estimate plus max_tokens is taken at admission; a request larger than the limit is told not to retry', async () => {
    const { h, issue, openai } = await setup();
    const { plain } = await issue({ tpm: 400 });
    // USER_MESSAGES is ~7 tokens by the bytes / 4 estimate; max_tokens 150 reserves 150 more.
    await openai(plain).chat.completions.create(ask('chat', { max_tokens: 150 }));
    await openai(plain).chat.completions.create(ask('chat', { max_tokens: 150 }));
    const calls = h.sim.calls.length;
    const error = await rejected(openai(plain).chat.completions.create(ask('chat', { max_tokens: 150 })));
    expect(error.status).toBe(429);
    expect(error.message).toContain('tokens per minute');
    expect(error.headers?.get('retry-after-ms')).toBeTruthy();
    expect(h.sim.calls).toHaveLength(calls);

    const fresh = await issue({ name: 'fresh', tpm: 100 });
    const huge = await rejected(openai(fresh.plain).chat.completions.create(ask('chat', { max_tokens: 5_000 })));
    expect(huge.status).toBe(429);
    expect(huge.headers?.get('x-should-retry')).toBe('false');
    expect(huge.message).toContain('more tokens than');
  });

  it('tpm counts what the answer used beyond the reservation', async () => {
    const { issue, openai } = await setup({
      simulators: { sim: { a: { kind: 'ok', text: 'A long answer. '.repeat(40) } } },
      routes: { chat: { ladder: [{ targets: 'sim/a' }] } },
    });
    // No max_tokens: admission reserves the prompt only (~7 tokens); the answer's ~150 tokens are added after it.
    const { plain } = await issue({ tpm: 60 });
    await openai(plain).chat.completions.create(ask());
    const error = await rejected(openai(plain).chat.completions.create(ask()));
    expect(error.status).toBe(429);
  });
});

describe('virtual keys: the degradation cache is per key', () => {
  it("key A's cached answer is never served to key B", async () => {
    const { h, issue, openai } = await setup({
      simulators: { sim: { primary: { kind: 'ok', text: 'The answer for A.' } } },
      routes: { chat: { ladder: [{ targets: 'sim/primary', retries: 0 }, { cache: true }, { static: 'busy' }] } },
    });
    const a = await issue({ name: 'a' });
    const b = await issue({ name: 'b' });
    expect((await openai(a.plain).chat.completions.create(ask())).choices[0]?.message.content).toBe('The answer for A.');
    h.sim.setModel('primary', { kind: 'status', status: 503 });
    const forB = await openai(b.plain).chat.completions.create(ask()).withResponse();
    expect(forB.data.choices[0]?.message.content).toBe('busy');
    expect(forB.response.headers.get('x-understudy-served-by')).toBe('understudy/static');
    const forA = await openai(a.plain).chat.completions.create(ask()).withResponse();
    expect(forA.data.choices[0]?.message.content).toBe('The answer for A.');
    expect(forA.response.headers.get('x-understudy-served-by')).toBe('understudy/cache');
  });
});

describe('virtual keys: /v1/models', () => {
  it('lists only the routes and targets the key may use, and needs a key', async () => {
    const { h, issue, openai } = await setup();
    const { plain } = await issue({ routes: ['chat'], targets: ['sim/b'] });
    const models = await openai(plain).models.list();
    expect(models.data.map((m) => m.id).sort()).toEqual(['chat', 'sim/b']);
    const everything = await issue({ name: 'all' });
    expect((await openai(everything.plain).models.list()).data).toHaveLength(6);
    const anonymous = await fetch(`${h.gateway.url}/models`);
    expect(anonymous.status).toBe(401);
  });
});

describe('virtual keys: the admin API', () => {
  async function admin(h: Harness, method: string, path: string, body?: unknown, key = ADMIN_KEY): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${h.origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  it('creates (the key shown once), lists, shows and revokes keys; never returns a hash', async () => {
    const { h, openai, store } = await setup();
    const created = await admin(h, 'POST', '/admin/keys', { name: 'ci', routes: ['chat'], targets: ['sim/*'], rpm: 100, expires: '30d', metadata: { team: 'search' } });
    expect(created.status).toBe(201);
    const key = created.json['key'] as string;
    const id = created.json['id'] as string;
    expect(key).toMatch(/^usk_[0-9A-Za-z]{43}$/);
    expect(created.json).toMatchObject({ name: 'ci', status: 'active', routes: ['chat'], targets: ['sim/*'], rpm: 100, tpm: null, metadata: { team: 'search' } });
    expect(JSON.stringify(created.json)).not.toContain('sha256');

    expect((await openai(key).chat.completions.create(ask())).choices[0]?.message.content).toBe(A);

    const listed = await admin(h, 'GET', '/admin/keys');
    expect(listed.status).toBe(200);
    expect(listed.json['data']).toEqual([expect.objectContaining({ id, name: 'ci' })]);
    expect(JSON.stringify(listed.json)).not.toContain('sha256');
    expect(JSON.stringify(listed.json)).not.toContain(key);
    const shown = await admin(h, 'GET', `/admin/keys/${id}`);
    expect(shown.json).toMatchObject({ id, status: 'active' });
    expect(shown.json['key']).toBeUndefined();

    const revoked = await admin(h, 'DELETE', `/admin/keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id, status: 'revoked', revoked_at: expect.any(String) });
    expect((await rejected(openai(key).chat.completions.create(ask()))).code).toBe('revoked_api_key');
    expect((await store.get(id))?.revoked_at).toBeDefined();
    expect((await admin(h, 'DELETE', '/admin/keys/key_nothere')).status).toBe(404);
  });

  it('checks the admin key and the body', async () => {
    const { h } = await setup();
    expect((await admin(h, 'GET', '/admin/keys', undefined, 'wrong-admin-key-0000')).status).toBe(401);
    const badRoute = await admin(h, 'POST', '/admin/keys', { name: 'x', routes: ['nope'] });
    expect(badRoute.status).toBe(400);
    expect((badRoute.json['error'] as { param?: string }).param).toBe('routes[0]');
    expect((await admin(h, 'POST', '/admin/keys', { name: 'x', targets: ['ghost/*'] })).status).toBe(400);
    expect((await admin(h, 'POST', '/admin/keys', { name: 'x', expires: 'yesterday' })).status).toBe(400);
    expect((await admin(h, 'POST', '/admin/keys', { name: 'x', hash: 'sha256:00' })).status).toBe(400);
    expect((await admin(h, 'PUT', '/admin/keys')).status).toBe(405);
  });
});
