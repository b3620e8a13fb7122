import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  geminiBatchResponseErrors,
  geminiEmbedResponseErrors,
  openaiEmbeddingResponseErrors,
} from '../providers/__fixtures__/embedding-schemas.js';
import { DEFAULT_EMBEDDING_DIMENSIONS, embeddingVector } from './embeddings.js';
import { type Scenario, type Simulator, type SimulatorOptions, createSimulator } from './index.js';

const open: Simulator[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function start(models: Record<string, Scenario>, extra: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = createSimulator({ models, ...extra });
  open.push(sim);
  await sim.listen();
  return sim;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (garbage, cut)
  }
  return { status: res.status, json, text };
}

describe('simulated embedding vectors', () => {
  it('are deterministic float32 unit vectors of model and text', () => {
    const v = embeddingVector('text-embedding-3-small', 'hello');
    expect(v).toHaveLength(DEFAULT_EMBEDDING_DIMENSIONS);
    expect(v).toEqual(embeddingVector('text-embedding-3-small', 'hello'));
    expect(v.every((x) => Math.fround(x) === x)).toBe(true);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    expect(embeddingVector('text-embedding-3-large', 'hello')).not.toEqual(v);
    expect(embeddingVector('text-embedding-3-small', 'hello!')).not.toEqual(v);
  });

  it('a shorter `dimensions` is the longer vector’s prefix, renormalised', () => {
    const full = embeddingVector('m', 't', 64);
    const short = embeddingVector('m', 't', 8);
    const scale = (short[0] ?? 0) / (full[0] ?? 1);
    short.forEach((x, i) => expect(x).toBeCloseTo((full[i] ?? 0) * scale, 5));
  });
});

describe('POST /v1/embeddings (OpenAI wire)', () => {
  it('answers the official SDK (float and its default base64) with the deterministic vectors; the same model on another simulator agrees', async () => {
    const a = await start({ 'text-embedding-3-small': { kind: 'ok' } });
    const b = await start({ 'text-embedding-3-small': { kind: 'ok' }, other: { kind: 'ok' } });
    const sdk = (s: Simulator) => new OpenAI({ baseURL: s.url, apiKey: 'k', maxRetries: 0 });
    const input = ['one', 'two'];
    const float = await sdk(a).embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'float' });
    expect(openaiEmbeddingResponseErrors(float)).toEqual([]);
    expect(float.data.map((d) => d.embedding)).toEqual(input.map((t) => embeddingVector('text-embedding-3-small', t)));
    const decoded = await sdk(b).embeddings.create({ model: 'text-embedding-3-small', input, dimensions: 12 });
    expect(decoded.data.map((d) => d.embedding)).toEqual(input.map((t) => embeddingVector('text-embedding-3-small', t, 12)));
    const other = await sdk(b).embeddings.create({ model: 'other', input: 'one', encoding_format: 'float' });
    expect(other.data[0]?.embedding).not.toEqual(float.data[0]?.embedding);
    expect(a.calls.map((c) => [c.model, c.format, c.operation, c.outcome])).toEqual([['text-embedding-3-small', 'openai', 'embed', 'ok']]);
  });

  it('token-array input, Azure’s deployment path, and the request checks', async () => {
    const s = await start({ emb: { kind: 'ok' } }, { apiKey: 'key' });
    const tokens = await post(`${s.url}/embeddings`, { model: 'emb', input: [[1, 2], [3]] }, { authorization: 'Bearer key' });
    expect((tokens.json.data as unknown[]).length).toBe(2);
    const azure = await post(`${s.origin}/openai/deployments/emb/embeddings?api-version=2024-10-21`, { input: 'x' }, { 'api-key': 'key' });
    expect(azure.status).toBe(200);
    expect(azure.json.model).toBe('emb');
    expect((await post(`${s.url}/embeddings`, { model: 'emb', input: 'x' })).status).toBe(401);
    const missing = await post(`${s.url}/embeddings`, { model: 'emb' }, { authorization: 'Bearer key' });
    expect([missing.status, (missing.json.error as { param: string }).param]).toEqual([400, 'input']);
    expect((await post(`${s.url}/embeddings`, { model: 'nope', input: 'x' }, { authorization: 'Bearer key' })).status).toBe(404);
  });
});

describe('Gemini :embedContent and :batchEmbedContents', () => {
  it('answers @google/genai (batchEmbedContents) and a plain embedContent with the same vectors as the OpenAI wire', async () => {
    const s = await start({ 'gemini-embedding-001': { kind: 'ok' } });
    const ai = new GoogleGenAI({ apiKey: 'g-key', httpOptions: { baseUrl: s.origin } });
    const res = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['one', 'two'], config: { outputDimensionality: 16 } });
    expect(res.embeddings?.map((e) => e.values)).toEqual(['one', 'two'].map((t) => embeddingVector('gemini-embedding-001', t, 16)));
    const batchCall = s.calls[0];
    expect([batchCall?.format, batchCall?.operation, batchCall?.headers['x-goog-api-key']]).toEqual(['gemini', 'embed', 'g-key']);

    const one = await post(`${s.baseUrls.gemini}/models/gemini-embedding-001:embedContent`, { content: { parts: [{ text: 'one' }] } });
    expect(geminiEmbedResponseErrors(one.json)).toEqual([]);
    expect((one.json.embedding as { values: number[] }).values).toEqual(embeddingVector('gemini-embedding-001', 'one'));
    const batch = await post(`${s.baseUrls.gemini}/models/gemini-embedding-001:batchEmbedContents`, {
      requests: [{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'two' }] } }],
    });
    expect(geminiBatchResponseErrors(batch.json)).toEqual([]);
    const missing = await post(`${s.baseUrls.gemini}/models/gemini-embedding-001:embedContent`, {});
    expect([missing.status, (missing.json.error as { status: string }).status]).toEqual([400, 'INVALID_ARGUMENT']);
  });
});

describe('fault scenarios apply to embeddings requests', () => {
  it('fail_first: the first call fails in the format’s own error shape, the next one answers', async () => {
    const s = await start({ m: { kind: 'fail_first', n: 1, failure: { kind: 'status', status: 503 }, then: { kind: 'ok' } } });
    const gemini = `${s.baseUrls.gemini}/models/m:embedContent`;
    const first = await post(gemini, { content: { parts: [{ text: 'a' }] } });
    expect([first.status, (first.json.error as { status: string }).status]).toEqual([503, 'UNAVAILABLE']);
    expect((await post(gemini, { content: { parts: [{ text: 'a' }] } })).status).toBe(200);
    expect(s.calls.map((c) => c.outcome)).toEqual(['status', 'ok']);
  });

  it.each([
    ['rate_limit', { kind: 'rate_limit', retry_after_s: 3 }, 429, 'rate_limit_exceeded'],
    ['insufficient_quota', { kind: 'insufficient_quota' }, 429, 'insufficient_quota'],
    ['context_window', { kind: 'context_window' }, 400, 'context_length_exceeded'],
    ['auth_error', { kind: 'auth_error' }, 401, 'invalid_api_key'],
    ['midstream_error', { kind: 'midstream_error', after_chunks: 1 }, 529, null],
  ] as [string, Scenario, number, string | null][])('%s → %s in OpenAI’s shape', async (_name, scenario, status, code) => {
    const s = await start({ m: scenario });
    const reply = await post(`${s.url}/embeddings`, { model: 'm', input: 'x' });
    expect([reply.status, (reply.json.error as { code: string | null }).code]).toEqual([status, code]);
  });

  it('garbage, empty vectors, malformed JSON, a cut body and a reset connection', async () => {
    const s = await start({ g: { kind: 'garbage' }, e: { kind: 'empty' }, mal: { kind: 'malformed_chunk', after_chunks: 0 }, cut: { kind: 'cut', after_chunks: 0 }, r: { kind: 'reset' } });
    const url = `${s.url}/embeddings`;
    expect((await post(url, { model: 'g', input: 'x' })).text).toContain('502 Bad Gateway');
    expect(((await post(url, { model: 'e', input: 'x' })).json.data as { embedding: number[] }[])[0]?.embedding).toEqual([]);
    const malformed = await post(url, { model: 'mal', input: 'x' });
    expect(malformed.status).toBe(200);
    expect(() => JSON.parse(malformed.text)).toThrow();
    await expect(post(url, { model: 'cut', input: 'x' })).rejects.toThrow();
    await expect(post(url, { model: 'r', input: 'x' })).rejects.toThrow();
  });

  it('no_response holds the request until the client gives up; a scheduled outage fails then recovers', async () => {
    let now = 0;
    const s = await start(
      { silent: { kind: 'no_response' }, flaky: { kind: 'outage', down_ms: 1_000, every_ms: 10_000, then: { kind: 'ok' } } },
      { clock: { now: () => now } },
    );
    const gone = await fetch(`${s.url}/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'silent', input: 'x' }), signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(Error);
    expect((await post(`${s.url}/embeddings`, { model: 'flaky', input: 'x' })).status).toBe(503);
    now = 2_000;
    expect((await post(`${s.url}/embeddings`, { model: 'flaky', input: 'x' })).status).toBe(200);
  });
});
