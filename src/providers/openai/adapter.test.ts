import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { COMPAT_PRESETS, type ProviderSpec } from '../registry.js';
import { OPENAI_DEFAULT_CAPABILITIES, createOpenAIProvider } from './adapter.js';
import { chunksOf, chunksToSse, fixture, streamProblems } from './__fixtures__/conformance.js';
import { callOptions, chatRequest, closeUpstreams, drain, sse, startUpstream } from './__fixtures__/upstream.js';
import { COMPAT_PRESET_INFO } from './presets.js';

afterEach(closeUpstreams);

const spec = (extra: Partial<ProviderSpec>): ProviderSpec => ({
  name: 'p',
  kind: 'openai-compatible',
  baseUrl: '',
  apiKey: 'sk-test-0123456789',
  headers: {},
  streamUpstream: false,
  models: {},
  ...extra,
});

describe('createOpenAIProvider over a socket', () => {
  it('posts to ${base_url}/chat/completions with a Bearer key and passes a Mistral stream on normalised', async () => {
    const up = await startUpstream(sse(chunksToSse(fixture('vercel-ai/mistral/mistral-tool-call.chunks.txt'))));
    const provider = createOpenAIProvider(spec({ baseUrl: `${up.baseUrl}/v1/`, preset: 'mistral' }), { dispatcher: up.dispatcher, now: () => 0 });
    const call = await provider.target('mistral-small-latest').call(chatRequest(true, { stream_options: { include_usage: true } }), callOptions(true));
    const chunks = chunksOf(await drain(call));
    expect(up.seen[0]?.url).toBe('/v1/chat/completions');
    expect(up.seen[0]?.headers.authorization).toBe('Bearer sk-test-0123456789');
    expect(up.seen[0]?.body).toMatchObject({ model: 'mistral-small-latest', stream: true, stream_options: { include_usage: true } });
    expect(streamProblems(chunks)).toEqual([]);
    expect(chunks.map((c) => [c.choices[0]?.finish_reason ?? null, c.choices.length, c.usage?.total_tokens ?? null])).toEqual([
      [null, 1, null],
      [null, 1, null],
      ['tool_calls', 1, null],
      [null, 0, 146],
    ]);
  });
});

describe('compat presets', () => {
  it('every preset has a base URL, notes, and capability defaults over OpenAI’s', () => {
    for (const name of COMPAT_PRESETS) {
      const info = COMPAT_PRESET_INFO[name];
      expect(new URL(info.baseUrl).pathname).toMatch(/\/v1$/);
      expect(info.notes.length).toBeGreaterThan(0);
    }
  });

  it('a preset supplies the base URL the spec lacks and its capability defaults; config overrides still win', async () => {
    const dispatcher = new Agent();
    const deepseek = createOpenAIProvider(spec({ preset: 'deepseek', models: { 'deepseek-chat': { jsonSchema: true } } }), { dispatcher, now: Date.now });
    expect(deepseek.target('deepseek-chat').capabilities).toEqual({
      ...OPENAI_DEFAULT_CAPABILITIES,
      vision: false,
      jsonSchema: true,
      maxContextTokens: 65_536,
      maxOutputTokens: 8_192,
    });
    expect(createOpenAIProvider(spec({ kind: 'openai', baseUrl: 'https://api.openai.com/v1' }), { dispatcher, now: Date.now }).target('x').capabilities).toEqual(
      OPENAI_DEFAULT_CAPABILITIES,
    );
    expect(() => createOpenAIProvider(spec({}), { dispatcher, now: Date.now })).toThrow(/no base_url and no preset/);
    await dispatcher.close();
  });
});
