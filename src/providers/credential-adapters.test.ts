import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialPool } from './credentials.js';
import { callOptions, chatRequest, closeUpstreams, drain, failureOf, json, startUpstream, type Reply, type Upstream } from './openai/__fixtures__/upstream.js';
import { createProvider, type ProviderKind } from './registry.js';

afterEach(closeUpstreams);

/** Keys with no generic key shape (no `sk-`, no `key=`): only the pool's own list can scrub them. */
const BAD = 'pool-bad-credential-0001';
const GOOD = 'pool-good-credential-0002';
const ROTATED_OUT = 'pool-retired-credential-0003';

interface Format {
  kind: ProviderKind;
  base: (up: Upstream) => string;
  key: (headers: IncomingMessage['headers']) => string | undefined;
  refused: (key: string) => Reply;
  ok: Reply;
  /** A 503 whose message echoes every key given (a misbehaving upstream or proxy). */
  echo: (keys: string[]) => Reply;
}

const openAIOk = json(200, JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] }));
const openAIError = (status: number, message: string, code: string | null) => json(status, JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code } }));

const FORMATS: Format[] = [
  {
    kind: 'openai',
    base: (up) => `${up.baseUrl}/v1`,
    key: (h) => String(h.authorization ?? '').replace(/^Bearer /, ''),
    refused: (key) => openAIError(401, `Incorrect API key provided: ${key}.`, 'invalid_api_key'),
    ok: openAIOk,
    echo: (keys) => openAIError(503, `overloaded; keys seen ${keys.join(' ')}`, null),
  },
  {
    kind: 'azure-openai',
    base: (up) => up.baseUrl,
    key: (h) => h['api-key'] as string | undefined,
    refused: (key) => openAIError(401, `Access denied due to invalid subscription key ${key}.`, '401'),
    ok: openAIOk,
    echo: (keys) => openAIError(503, `overloaded; keys seen ${keys.join(' ')}`, null),
  },
  {
    kind: 'anthropic',
    base: (up) => up.baseUrl,
    key: (h) => h['x-api-key'] as string | undefined,
    refused: (key) => json(401, JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${key}` } })),
    ok: json(
      200,
      JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } }),
    ),
    echo: (keys) => json(529, JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: `keys seen ${keys.join(' ')}` } })),
  },
  {
    kind: 'gemini',
    base: (up) => `${up.baseUrl}/v1beta`,
    key: (h) => h['x-goog-api-key'] as string | undefined,
    refused: (key) =>
      json(
        400,
        JSON.stringify({ error: { code: 400, message: `API key not valid: ${key}`, status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }] } }),
      ),
    ok: json(200, JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP', index: 0 }], modelVersion: 'm' })),
    echo: (keys) => json(503, JSON.stringify({ error: { code: 503, message: `keys seen ${keys.join(' ')}`, status: 'UNAVAILABLE' } })),
  },
];

/** An upstream that accepts GOOD only, answering through `format`; or echoes keys when `echo` is set. */
async function upstream(format: Format, echo?: string[]): Promise<Upstream> {
  let up: Upstream | undefined;
  up = await startUpstream((res) => {
    if (echo) return format.echo(echo)(res);
    const key = format.key(up?.seen.at(-1)?.headers ?? {});
    return key === GOOD ? format.ok(res) : format.refused(key ?? '')(res);
  });
  return up;
}

function providerFor(format: Format, up: Upstream, pool: CredentialPool) {
  return createProvider(
    { name: 'p', kind: format.kind, baseUrl: format.base(up), apiKey: undefined, credentials: pool, headers: {}, streamUpstream: false, models: {} },
    { dispatcher: up.dispatcher, now: Date.now },
  );
}

describe.each(FORMATS)('credential pool: $kind', (format) => {
  it('a refused key is cooled and the same call is made again with the next key; later calls skip it', async () => {
    const up = await upstream(format);
    const pool = new CredentialPool([BAD, GOOD], { now: Date.now });
    const target = providerFor(format, up, pool).target('m');
    for (let i = 0; i < 3; i++) expect((await drain(await target.call(chatRequest(false), callOptions(false)))).length).toBeGreaterThan(0);
    expect(up.seen.map((s) => format.key(s.headers))).toEqual([BAD, GOOD, GOOD, GOOD]);
  });

  it('when every key is refused, the failure reaches the engine as upstream_auth, with no key in its message', async () => {
    const up = await upstream(format);
    const pool = new CredentialPool([BAD, ROTATED_OUT], { now: Date.now });
    const failure = await failureOf(providerFor(format, up, pool).target('m').call(chatRequest(false), callOptions(false)));
    expect(failure.kind).toBe('upstream_auth');
    expect(up.seen).toHaveLength(2);
    expect(failure.message).not.toContain(BAD);
    expect(failure.message).not.toContain(ROTATED_OUT);
  });

  it('every key the pool ever held, rotated out or not, is scrubbed from upstream error text', async () => {
    const up = await upstream(format, [BAD, GOOD, ROTATED_OUT]);
    const pool = new CredentialPool([ROTATED_OUT], { now: Date.now });
    pool.replace([BAD, GOOD]);
    const failure = await failureOf(providerFor(format, up, pool).target('m').call(chatRequest(false), callOptions(false)));
    expect(failure.kind).toBe('overloaded');
    expect(failure.message).toContain('[redacted] [redacted] [redacted]');
    for (const key of [BAD, GOOD, ROTATED_OUT]) expect(failure.message).not.toContain(key);
  });
});

describe('credential pool: embeddings', () => {
  it('an OpenAI embeddings call moves past a refused key the same way', async () => {
    const format = FORMATS[0] as Format;
    let up: Upstream | undefined;
    up = await startUpstream((res) => {
      const key = format.key(up?.seen.at(-1)?.headers ?? {});
      if (key !== GOOD) return format.refused(key ?? '')(res);
      json(200, JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'e', usage: { prompt_tokens: 1, total_tokens: 1 } }))(res);
    });
    const pool = new CredentialPool([BAD, GOOD], { now: Date.now });
    const call = await providerFor(format, up, pool).embeddingTarget?.('e').embed({ model: 'e', input: 'x' }, { signal: new AbortController().signal });
    expect((await call?.response())?.data[0]?.embedding).toEqual([0.1, 0.2]);
    expect(up.seen.map((s) => format.key(s.headers))).toEqual([BAD, GOOD]);
  });
});
