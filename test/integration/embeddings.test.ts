/**
 * `POST /v1/embeddings` through the official OpenAI SDK (`client.embeddings.create`), gateway →
 * simulator over real sockets: same-model fallback across providers, declared equivalences, the
 * Gemini batch wire, the all-failed answer, bad input, and the config and request rules that keep
 * vectors of different models apart.
 */
import { performance } from 'node:perf_hooks';
import OpenAI, { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfig } from '../../src/config/load.js';
import { embeddingVector } from '../../src/simulator/embeddings.js';
import { pollFor, useHarness } from './harness.js';

const start = useHarness();
const MODEL = 'text-embedding-3-small';
const TEXTS = ['The quick brown fox', 'jumped over the lazy dog'];

/** Asks one simulator directly (no gateway) for its vectors, the way the SDK would. */
async function direct(baseURL: string, model: string, input: string | string[], options: { dimensions?: number } = {}): Promise<number[][]> {
  const client = new OpenAI({ baseURL, apiKey: 'direct', maxRetries: 0 });
  const response = await client.embeddings.create({ model, input, encoding_format: 'float', ...options });
  return response.data.map((d) => d.embedding);
}

async function rejected(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

describe('POST /v1/embeddings', () => {
  it('primary 503 → the same model on a second provider serves, with that provider’s own vectors (float and base64)', async () => {
    const h = await start({
      simulators: { east: { [MODEL]: { kind: 'status', status: 503 } }, west: { [MODEL]: { kind: 'ok' } } },
      routes: { embed: { kind: 'embeddings', ladder: [{ targets: `east/${MODEL}`, retries: 0 }, { targets: `west/${MODEL}` }] } },
    });
    const expected = await direct(h.sims.west?.url ?? '', MODEL, TEXTS);

    const { data, response } = await h.client.embeddings.create({ model: 'embed', input: TEXTS, encoding_format: 'float' }).withResponse();
    expect(data.object).toBe('list');
    expect(data.model).toBe(MODEL);
    expect(data.data.map((d) => d.index)).toEqual([0, 1]);
    expect(data.data.map((d) => d.embedding)).toEqual(expected);
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-understudy-served-by')).toBe(`west/${MODEL}`);
    expect(response.headers.get('x-understudy-attempts')).toBe('2');
    expect(response.headers.get('x-understudy-fallback-reason')).toBe('overloaded');
    expect(response.headers.get('x-understudy-route')).toBe('embed');
    expect(response.headers.get('x-request-id')).toBeTruthy();

    // The SDK's default: base64 on the wire, decoded by the SDK into the very same float32 values.
    const decoded = await h.client.embeddings.create({ model: 'embed', input: TEXTS });
    expect(decoded.data.map((d) => d.embedding)).toEqual(expected);
    const raw = await fetch(`${h.gateway.url}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'embed', input: TEXTS[0], encoding_format: 'base64' }),
    });
    const body = (await raw.json()) as { data: { embedding: unknown }[] };
    expect(typeof body.data[0]?.embedding).toBe('string');
    expect(Buffer.from(body.data[0]?.embedding as string, 'base64').length).toBe(4 * (expected[0]?.length ?? 0));

    const record = await h.record(response.headers.get('x-request-id'));
    expect(record.route).toBe('embed');
    expect(record.status).toBe(200);
    expect(record.attempts.map((a) => [a.target, a.outcome, a.failure?.kind ?? null])).toEqual([
      [`east/${MODEL}`, 'failed', 'overloaded'],
      [`west/${MODEL}`, 'ok', null],
    ]);
    // Three requests, each tried on east first (an overloaded target is not cooled down).
    expect(h.sims.east?.calls.map((c) => c.operation)).toEqual(['embed', 'embed', 'embed']);
  });

  it('a declared equivalence crosses: Azure deployment name → OpenAI model name', async () => {
    const h = await start({
      simulators: { sim: { 'embed-small-prod': { kind: 'rate_limit' }, [MODEL]: { kind: 'ok' } } },
      providers: { azure: { simulator: 'sim', type: 'azure-openai' }, openai: { simulator: 'sim' } },
      routes: {
        embed: {
          kind: 'embeddings',
          equivalent_models: [[MODEL, 'embed-small-prod']],
          ladder: [{ targets: 'azure/embed-small-prod' }, { targets: `openai/${MODEL}` }],
        },
      },
    });
    const { data, response } = await h.client.embeddings.create({ model: 'embed', input: 'hello', dimensions: 16, encoding_format: 'float' }).withResponse();
    expect(response.headers.get('x-understudy-served-by')).toBe(`openai/${MODEL}`);
    expect(response.headers.get('x-understudy-fallback-reason')).toBe('rate_limited');
    expect(data.data[0]?.embedding).toEqual(embeddingVector(MODEL, 'hello', 16));
    const azureCall = h.sim.callsFor('embed-small-prod')[0];
    expect(azureCall?.headers['api-key']).toBe('sk-test-azure-secret');
    expect(azureCall?.body).toMatchObject({ input: 'hello', dimensions: 16 });
  });

  it('per-model request headers reach the embeddings call; the provider’s own auth wins', async () => {
    const h = await start({
      simulators: { sim: { [MODEL]: { kind: 'ok' } } },
      providerOptions: { sim: { models: { [MODEL]: { request: { headers: { 'x-acme-tenant': 'search', authorization: 'Bearer not-this' } } } } } },
      routes: { embed: { kind: 'embeddings', ladder: [{ targets: `sim/${MODEL}` }] } },
    });
    await h.client.embeddings.create({ model: 'embed', input: 'x' });
    const call = h.sim.callsFor(MODEL)[0];
    expect(call?.headers['x-acme-tenant']).toBe('search');
    expect(call?.headers.authorization).toBe('Bearer sk-test-sim-secret');
  });

  it('Gemini: one input → embedContent, several → batchEmbedContents; same vectors as the simulator', async () => {
    const model = 'gemini-embedding-001';
    const h = await start({
      simulators: { sim: { [model]: { kind: 'ok' } } },
      providers: { google: { simulator: 'sim', type: 'gemini' } },
      routes: { gemini: { kind: 'embeddings', ladder: [{ targets: `google/${model}` }] } },
    });
    const batch = await h.client.embeddings.create({ model: 'gemini', input: TEXTS, dimensions: 8, encoding_format: 'float' });
    expect(batch.model).toBe(model);
    expect(batch.data.map((d) => d.embedding)).toEqual(TEXTS.map((t) => embeddingVector(model, t, 8)));
    expect(batch.usage.prompt_tokens).toBe(TEXTS.reduce((n, t) => n + Math.ceil(t.length / 4), 0));
    const { data: one, response } = await h.client.embeddings.create({ model: 'gemini', input: TEXTS[0] as string, user: 'u-1' }).withResponse();
    expect(one.data.map((d) => d.embedding)).toEqual([embeddingVector(model, TEXTS[0] as string)]);
    expect(response.headers.get('x-understudy-dropped-params')).toBe('user');

    const [batchCall, oneCall] = h.sim.callsFor(model);
    expect(batchCall?.body).toEqual({
      requests: TEXTS.map((text) => ({ model: `models/${model}`, content: { parts: [{ text }] }, outputDimensionality: 8 })),
    });
    expect(oneCall?.body).toEqual({ model: `models/${model}`, content: { parts: [{ text: TEXTS[0] }] } });
    expect(batchCall?.headers['x-goog-api-key']).toBe('sk-test-google-secret');
  });

  it('the same model on OpenAI and Gemini wires: the Gemini target serves after OpenAI fails', async () => {
    const model = 'text-embedding-004';
    const h = await start({
      simulators: { oa: { [model]: { kind: 'reset' } }, gg: { [model]: { kind: 'ok' } } },
      providers: { google: { simulator: 'gg', type: 'gemini' } },
      routes: { embed: { kind: 'embeddings', ladder: [{ targets: [`oa/${model}`], retries: 0 }, { targets: `google/${model}` }] } },
    });
    const { data, response } = await h.client.embeddings.create({ model: 'embed', input: TEXTS, encoding_format: 'float' }).withResponse();
    expect(response.headers.get('x-understudy-served-by')).toBe(`google/${model}`);
    expect(response.headers.get('x-understudy-fallback-reason')).toBe('connection');
    expect(data.data.map((d) => d.embedding)).toEqual(TEXTS.map((t) => embeddingVector(model, t)));
  });

  it('a silent target is abandoned at total_ms (its upstream call aborted) and the next one serves', async () => {
    const h = await start({
      simulators: { east: { [MODEL]: { kind: 'no_response' } }, west: { [MODEL]: { kind: 'ok', latency_ms: 50 } } },
      routes: { embed: { kind: 'embeddings', timeouts: { total_ms: 300 }, ladder: [{ targets: `east/${MODEL}` }, { targets: `west/${MODEL}` }] } },
    });
    const started = performance.now();
    const { response } = await h.client.embeddings.create({ model: 'embed', input: 'x' }).withResponse();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(response.headers.get('x-understudy-served-by')).toBe(`west/${MODEL}`);
    expect(response.headers.get('x-understudy-fallback-reason')).toBe('timeout_headers');
    await pollFor(() => h.sims.east?.openConnections() === 0, 2_000, 'the abandoned upstream call to close');
  });

  it('all targets fail → 503 in OpenAI’s shape listing every attempt, x-should-retry: false', async () => {
    const h = await start({
      simulators: { east: { [MODEL]: { kind: 'status', status: 500 } }, west: { [MODEL]: { kind: 'garbage' } } },
      routes: { embed: { kind: 'embeddings', ladder: [{ targets: [`east/${MODEL}`, `west/${MODEL}`], retries: 0 }] } },
    });
    const error = await rejected(h.client.embeddings.create({ model: 'embed', input: 'x' }));
    expect(error.status).toBe(503);
    expect(error.code).toBe('all_targets_failed');
    expect(error.headers?.get('x-should-retry')).toBe('false');
    expect(error.headers?.get('x-understudy-attempts')).toBe('2');
    const attempts = (error.error as { attempts?: { target: string; kind: string }[] }).attempts ?? [];
    expect(attempts.map((a) => [a.target, a.kind]).sort()).toEqual([
      [`east/${MODEL}`, 'server_error'],
      [`west/${MODEL}`, 'malformed_response'],
    ]);
    expect(error.message).toContain(`east/${MODEL}: server_error (HTTP 500)`);
  });

  it('every target rate limited → 429 with the shortest Retry-After', async () => {
    const h = await start({
      simulators: { east: { [MODEL]: { kind: 'rate_limit', retry_after_s: 30 } }, west: { [MODEL]: { kind: 'rate_limit', retry_after_s: 7 } } },
      routes: { embed: { kind: 'embeddings', ladder: [{ targets: `east/${MODEL}` }, { targets: `west/${MODEL}` }] } },
    });
    const error = await rejected(h.client.embeddings.create({ model: 'embed', input: 'x' }));
    expect(error.status).toBe(429);
    expect(error.headers?.get('retry-after')).toBe('7');
    expect(error.headers?.get('x-should-retry')).toBe('false');
  });

  it('a target ignoring `dimensions` is not served: its vectors are another length', async () => {
    const h = await start({
      simulators: { sim: { [MODEL]: { kind: 'ok' } } },
      routes: { embed: { kind: 'embeddings', ladder: [{ targets: `sim/${MODEL}` }] } },
    });
    // The simulator honours dimensions; asking more than it serves (3072 cap) shows the check.
    const error = await rejected(h.client.embeddings.create({ model: 'embed', input: 'x', dimensions: 4096 }));
    // No target accepts the parameter: the client's request must change (400, not a server failure).
    expect(error.status).toBe(400);
    expect(error.code).toBe('unsupported_parameter');
    expect(error.message).toContain('unsupported_parameter');
  });

  it('bad input → 400 in OpenAI’s shape naming the parameter, logged, no upstream call', async () => {
    const h = await start({
      simulators: { sim: { [MODEL]: { kind: 'ok' } } },
      routes: { embed: { kind: 'embeddings', ladder: [{ targets: `sim/${MODEL}` }] } },
    });
    const cases: [Record<string, unknown>, string, string][] = [
      [{ model: 'embed' }, 'input', 'missing_required_parameter'],
      [{ model: 'embed', input: '' }, 'input', 'invalid_value'],
      [{ model: 'embed', input: [] }, 'input', 'invalid_value'],
      [{ model: 'embed', input: ['a', 3] }, 'input[1]', 'invalid_value'],
      [{ model: 'embed', input: [[1, 2], []] }, 'input[1]', 'invalid_value'],
      [{ model: 'embed', input: 'a', encoding_format: 'hex' }, 'encoding_format', 'invalid_value'],
      [{ model: 'embed', input: 'a', dimensions: 0 }, 'dimensions', 'invalid_value'],
      [{ input: 'a' }, 'model', 'missing_required_parameter'],
    ];
    for (const [body, param, code] of cases) {
      const error = await rejected(h.client.embeddings.create(body as unknown as OpenAI.EmbeddingCreateParams));
      expect([error.status, error.param, error.code], JSON.stringify(body)).toEqual([400, param, code]);
    }
    const raw = await fetch(`${h.gateway.url}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    expect(h.sim.calls).toHaveLength(0);
    expect(h.records.filter((r) => r.rejected)).toHaveLength(cases.length + 1);
  });

  it('fallback_models must serve the same model (or a declared equivalent): anything else is a 400', async () => {
    const h = await start({
      simulators: { east: { [MODEL]: { kind: 'status', status: 503 }, 'text-embedding-3-large': { kind: 'ok' } }, west: { [MODEL]: { kind: 'ok' } } },
      routes: { embed: { kind: 'embeddings', ladder: [{ targets: `east/${MODEL}`, retries: 0 }] } },
    });
    const mixed = await rejected(
      h.client.embeddings.create({ model: 'embed', input: 'x', fallback_models: ['east/text-embedding-3-large'] } as OpenAI.EmbeddingCreateParams),
    );
    expect([mixed.status, mixed.code, mixed.param]).toEqual([400, 'invalid_fallback_models', 'fallback_models[0]']);
    expect(mixed.message).toContain('different spaces');
    expect(h.sims.east?.calls).toHaveLength(0);

    const { data, response } = await h.client.embeddings
      .create({ model: 'embed', input: 'x', encoding_format: 'float', fallback_models: [`west/${MODEL}`] } as OpenAI.EmbeddingCreateParams)
      .withResponse();
    expect(response.headers.get('x-understudy-served-by')).toBe(`west/${MODEL}`);
    expect(data.data[0]?.embedding).toEqual(embeddingVector(MODEL, 'x'));
    // A direct provider/model works too, and its fallbacks obey the same rule.
    const direct = await rejected(
      h.client.embeddings.create({ model: `west/${MODEL}`, input: 'x', fallback_models: ['east/text-embedding-3-large'] } as OpenAI.EmbeddingCreateParams),
    );
    expect(direct.status).toBe(400);
  });

  it('chat to an embeddings route and embeddings to a chat route are clear 400s', async () => {
    const h = await start({
      simulators: { sim: { [MODEL]: { kind: 'ok' }, chatty: { kind: 'ok' } } },
      routes: { embed: { kind: 'embeddings', ladder: [{ targets: `sim/${MODEL}` }] }, chat: { ladder: [{ targets: 'sim/chatty' }] } },
    });
    const toEmbed = await rejected(h.client.chat.completions.create({ model: 'embed', messages: [{ role: 'user', content: 'hi' }] }));
    expect([toEmbed.status, toEmbed.code]).toEqual([400, 'wrong_route_kind']);
    expect(toEmbed.message).toContain('POST /v1/embeddings');
    const messages = await fetch(`${h.gateway.url}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'embed', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(messages.status).toBe(400);
    expect(await messages.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('embeddings route') } });
    const toChat = await rejected(h.client.embeddings.create({ model: 'chat', input: 'hi' }));
    expect([toChat.status, toChat.code]).toEqual([400, 'wrong_route_kind']);
    expect(h.sim.calls).toHaveLength(0);
    const models = await h.client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining(['embed', 'chat', `sim/${MODEL}`]));
  });
});

describe('embeddings routes in config', () => {
  const providers = { east: { type: 'openai', base_url: 'http://127.0.0.1:9/v1' }, claude: { type: 'anthropic' } };

  function problems(routes: Record<string, unknown>): ConfigError {
    try {
      parseConfig(stringify({ providers, routes }), 'embed.yaml', { env: {} });
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('expected a ConfigError');
  }

  it('a route whose other target is a different model is rejected, naming file, line, path and the fix', () => {
    const error = problems({ embed: { kind: 'embeddings', ladder: [{ targets: `east/${MODEL}` }, { targets: 'east/text-embedding-3-large' }] } });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ path: 'routes.embed.ladder[1].targets', line: expect.any(Number) });
    expect(error.message).toContain(`embed.yaml:${error.problems[0]?.line}:`);
    expect(error.message).toContain('equivalent_models: [[text-embedding-3-small, text-embedding-3-large]]');
  });
});
