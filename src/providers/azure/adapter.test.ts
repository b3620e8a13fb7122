import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { OPENAI_DEFAULT_CAPABILITIES } from '../openai/adapter.js';
import { assemble, chunksOf, chunksToSse, fixture, responseErrors, streamProblems } from '../openai/__fixtures__/conformance.js';
import { callOptions, chatRequest, closeUpstreams, drain, failureOf, json, sse, startUpstream, type Reply } from '../openai/__fixtures__/upstream.js';
import type { ProviderSpec } from '../registry.js';
import { createAzureProvider } from './adapter.js';

const KEY = 'azure-key-0123456789abcdef';
const DEPLOYMENT = 'gpt-4o-mini-prod';

afterEach(closeUpstreams);

/** An Azure stand-in and a target for DEPLOYMENT on it. */
async function azure(reply: Reply, spec: Partial<ProviderSpec> = {}, basePath = '') {
  const up = await startUpstream(reply);
  const provider = createAzureProvider(
    { name: 'azure', kind: 'azure-openai', baseUrl: up.baseUrl + basePath, apiKey: KEY, headers: {}, streamUpstream: false, models: {}, ...spec },
    { dispatcher: up.dispatcher, now: () => 1_700_000_000_000 },
  );
  return { seen: up.seen, target: provider.target(DEPLOYMENT) };
}

const recorded = chunksToSse(fixture('vercel-ai/azure-openai/azure-model-router.1.chunks.txt'));

describe('azure-openai adapter over a socket', () => {
  it('addresses the deployment with api-version and authenticates with api-key', async () => {
    const { seen, target } = await azure(sse(recorded));
    await drain(await target.call(chatRequest(true), callOptions(true)));
    const [req] = seen;
    expect(req?.method).toBe('POST');
    const url = new URL(req?.url ?? '', 'http://x');
    expect(url.pathname).toBe(`/openai/deployments/${DEPLOYMENT}/chat/completions`);
    expect(url.searchParams.get('api-version')).toBe('2024-10-21');
    expect(req?.headers['api-key']).toBe(KEY);
    expect(req?.headers.authorization).toBeUndefined();
    expect(req?.body).toMatchObject({ model: DEPLOYMENT, stream: true });
    expect(target.id).toBe(`azure/${DEPLOYMENT}`);
  });

  it('uses the configured api-version and tolerates a base URL ending in /openai/', async () => {
    const { seen, target } = await azure(json(200, '{"choices":[]}'), { apiVersion: '2025-01-01-preview' }, '/openai/');
    await drain(await target.call(chatRequest(false), callOptions(false)));
    expect(seen[0]?.url).toBe(`/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=2025-01-01-preview`);
  });

  it('replays the recorded Azure stream as a valid OpenAI stream and forwards apim-request-id', async () => {
    const { target } = await azure(sse(recorded, { 'apim-request-id': 'apim-123' }));
    const call = await target.call(chatRequest(true, { stream_options: { include_usage: true } }), callOptions(true));
    expect(call.headers['apim-request-id']).toBe('apim-123');
    const events = await drain(call);
    expect(events[0]?.type).toBe('keepalive'); // the prompt-filter chunk, dropped
    const chunks = chunksOf(events);
    expect(streamProblems(chunks)).toEqual([]);
    expect(chunks.every((c) => c.id === 'chatcmpl-CYPS1lijGoK8gd9lYzY3r9Sx50nbt')).toBe(true);
    const response = assemble(chunks);
    expect(response.choices[0]).toMatchObject({ message: { content: 'Capital of Denmark.' }, finish_reason: 'stop' });
    expect(response.usage?.total_tokens).toBe(93);
  });

  it('a completion blocked by the async filter ends with finish_reason content_filter, every chunk valid', async () => {
    const { target } = await azure(sse(fixture('errors/azure-openai.content_filter.completion-blocked.async-filter.sse')));
    const events = await drain(await target.call(chatRequest(true), callOptions(true)));
    const chunks = chunksOf(events);
    expect(streamProblems(chunks)).toEqual([]);
    expect(chunks.every((c) => c.id === 'chatcmpl-8JCbt5d4luUIhYCI7YH4dQK7hnHx2' && c.model === 'gpt-35-turbo' && c.created === 1699587397)).toBe(true);
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'content_filter' });
    expect(assemble(chunks).choices[0]).toMatchObject({ message: { content: 'Hey Jude, better' }, finish_reason: 'content_filter' });
    expect(events.filter((e) => e.type === 'keepalive').length).toBe(2); // the prompt-filter chunk and the annotation
  });

  it('a prompt blocked by the content filter (400) is content_policy naming the categories, without the key', async () => {
    const { target } = await azure(json(400, fixture('errors/azure-openai.content_filter.prompt.400.json')));
    const details = await failureOf(target.call(chatRequest(false), callOptions(false)));
    expect(details).toMatchObject({ kind: 'content_policy', status: 400, code: 'content_filter', param: 'prompt' });
    expect(details.message).toMatch(/^filtered: hate \(high\), self_harm \(high\), violence \(medium\) — /);
    expect(details.message).not.toContain(KEY);
  });

  it.each([
    [{ 'retry-after-ms': '1500', 'retry-after': '2' }, 1_500],
    [{ 'retry-after': '6' }, 6_000],
  ])('429 with %o is rate_limited, retry after %i ms', async (headers, retryAfterMs) => {
    const body = '{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded token rate limit. Please retry after 6 seconds."}}';
    const { target } = await azure(json(429, body, headers));
    expect(await failureOf(target.call(chatRequest(true), callOptions(true)))).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs });
  });

  it('a non-streaming answer with Azure’s filter annotations parses into a schema-valid completion', async () => {
    const filters = { hate: { filtered: false, severity: 'safe' } };
    const body = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-4o-mini-2024-07-18',
      system_fingerprint: null,
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: filters }],
      choices: [
        { index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'Copenhagen.', refusal: null }, content_filter_results: filters },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
    };
    const { target } = await azure(json(200, JSON.stringify(body)));
    const [event] = await drain(await target.call(chatRequest(false), callOptions(false)));
    if (event?.type !== 'response') throw new Error(`expected a response, got ${event?.type}`);
    expect(responseErrors(event.response)).toEqual([]);
    expect(event.response.choices[0]?.message.content).toBe('Copenhagen.');
  });

  it('has OpenAI’s default capabilities, known model limits and config overrides', async () => {
    const dispatcher = new Agent();
    const provider = createAzureProvider(
      { name: 'az', kind: 'azure-openai', baseUrl: 'https://res.openai.azure.com', apiKey: KEY, headers: {}, streamUpstream: false, models: { 'my-deploy': { vision: false } } },
      { dispatcher, now: Date.now },
    );
    expect(provider.target('gpt-4o').capabilities).toEqual({ ...OPENAI_DEFAULT_CAPABILITIES, maxContextTokens: 128_000, maxOutputTokens: 16_384 });
    expect(provider.target('my-deploy').capabilities).toEqual({ ...OPENAI_DEFAULT_CAPABILITIES, vision: false });
    await dispatcher.close();
  });
});
