import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import type { ChatChunk, ChatResponse } from '../../canonical/chat.js';
import { chunkErrors, chunksOf, fixture, fixtureFiles, parseAll, responseErrors } from './__fixtures__/conformance.js';
import { StreamNormaliser, normaliseResponse, type StreamNormaliserOptions } from './normalise.js';

const FALLBACK = { id: 'chatcmpl-fallback', created: 1_700_000_000, model: 'deployment' };
const options: StreamNormaliserOptions = { fallbackIdentity: FALLBACK, separateUsage: false };

const base = { id: 'c1', object: 'chat.completion.chunk', created: 100, model: 'm' } as const;
const chunk = (choices: object[], extra: object = {}): ChatChunk => ({ ...base, choices, ...extra }) as ChatChunk;
const choice = (delta: object, finish: string | null = null, extra: object = {}) => ({ index: 0, delta, logprobs: null, finish_reason: finish, ...extra });

function run(chunks: ChatChunk[], opts: StreamNormaliserOptions = options): ChatChunk[] {
  const normaliser = new StreamNormaliser(opts);
  return chunks.flatMap((c) => normaliser.push(structuredClone(c)));
}

describe('StreamNormaliser leaves a conforming OpenAI stream unchanged', () => {
  const recordings = ['openai/openai-python-recordings', 'openai/openai-node-recordings'].flatMap((dir) => fixtureFiles(dir, '.sse'));

  it.each(recordings)('%s', async (path) => {
    const sse = fixture(path);
    const rawChunks: unknown[] = [];
    const parser = createParser({ onEvent: (e) => void (e.data !== '[DONE]' && e.data.trim() !== '' && rawChunks.push(JSON.parse(e.data))) });
    parser.feed(sse);
    expect(rawChunks.length).toBeGreaterThan(0);
    expect(chunksOf(await parseAll(sse, options))).toEqual(rawChunks);
  });
});

describe('StreamNormaliser rules', () => {
  it('pins id/created/model to the first chunk’s (Groq and xAI change `created` mid-stream)', () => {
    const out = run([chunk([choice({ role: 'assistant', content: '' })]), chunk([choice({ content: 'a' })], { created: 103 }), chunk([choice({}, 'stop')], { created: 104 })]);
    expect(out.map((c) => c.created)).toEqual([100, 100, 100]);
  });

  it('fills an omitted finish_reason with null (xAI)', () => {
    const [out] = run([chunk([{ index: 0, delta: { content: 'a' } }])]);
    expect(out?.choices[0]?.finish_reason).toBeNull();
    expect(chunkErrors(out)).toEqual([]);
  });

  it('indexes and types a whole tool call without index/type, and splits it from the finish with its usage (Mistral)', () => {
    const usage = { prompt_tokens: 124, total_tokens: 146, completion_tokens: 22 };
    const call = { id: 'gSIMJiOkT', function: { name: 'weather', arguments: '{"location": "San Francisco"}' } };
    const out = run([chunk([choice({ role: 'assistant', content: '' })]), chunk([choice({ content: null, tool_calls: [call] }, 'tool_calls')], { usage })]);
    expect(out.length).toBe(3);
    expect(out[1]?.choices[0]).toMatchObject({ delta: { tool_calls: [{ ...call, index: 0, type: 'function' }] }, finish_reason: null });
    expect(out[1]?.usage).toBeNull();
    expect(out[2]?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'tool_calls' });
    expect(out[2]?.usage).toEqual(usage);
    for (const c of out) expect(chunkErrors(c)).toEqual([]);
  });

  it('numbers several index-less calls by arrival; index-less fragments continue the last call', () => {
    const out = run([
      chunk([choice({ tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{}' } }, { id: 'b', function: { name: 'g', arguments: '' } }] })]),
      chunk([choice({ tool_calls: [{ function: { arguments: '{"x"' } }] })]),
      chunk([choice({ tool_calls: [{ id: 'b', function: { arguments: ':1}' } }] })]),
      chunk([choice({ tool_calls: [{ id: 'c', function: { name: 'h', arguments: '{}' } }] })]),
    ]);
    const indexes = out.flatMap((c) => c.choices[0]?.delta.tool_calls?.map((t) => t.index) ?? []);
    expect(indexes).toEqual([0, 1, 1, 1, 2]);
  });

  it('keeps a tool call’s own index and type', () => {
    const call = { index: 3, id: 'x', type: 'function', function: { name: 'f', arguments: '' } };
    expect(run([chunk([choice({ tool_calls: [call] })])])[0]?.choices[0]?.delta.tool_calls).toEqual([call]);
  });

  it('drops Azure’s prompt-filter chunk and annotation-only choices; keeps a filter verdict under the stream’s identity', () => {
    const empty = { id: '', object: '', created: 0, model: '' };
    const filters = { hate: { filtered: false, severity: 'safe' } };
    const out = run([
      { ...empty, choices: [], prompt_filter_results: [{ prompt_index: 0, content_filter_results: filters }], usage: null } as unknown as ChatChunk,
      chunk([choice({ role: 'assistant' })], { system_fingerprint: null }),
      chunk([choice({ content: 'Hey' })]),
      { ...empty, choices: [{ index: 0, finish_reason: null, delta: {}, content_filter_results: filters, content_filter_offsets: {} }] } as unknown as ChatChunk,
      { ...empty, choices: [{ index: 0, finish_reason: 'content_filter', delta: {}, content_filter_results: {} }] } as unknown as ChatChunk,
    ]);
    expect(out.map((c) => [c.id, c.object, c.created, c.model])).toEqual(Array(3).fill(['c1', 'chat.completion.chunk', 100, 'm']));
    expect(out.at(-1)?.choices[0]?.finish_reason).toBe('content_filter');
    expect(out[0]).not.toHaveProperty('system_fingerprint');
    for (const c of out) expect(chunkErrors(c)).toEqual([]);
  });

  it('gives a stream with no identity of its own the fallback identity', () => {
    const out = run([{ id: '', object: '', created: 0, model: '', choices: [{ index: 0, finish_reason: 'content_filter', delta: {} }] } as unknown as ChatChunk]);
    expect(out[0]).toMatchObject({ ...FALLBACK, object: 'chat.completion.chunk' });
    expect(chunkErrors(out[0])).toEqual([]);
  });

  it('drops a finishing choice’s empty-content delta rather than splitting it', () => {
    const out = run([chunk([choice({ content: '' }, 'stop')])]);
    expect(out.length).toBe(1);
    expect(out[0]?.choices[0]?.delta).toEqual({});
  });

  it('never drops a finishing delta’s content when splitting: legacy function_call kept, logprobs not repeated', () => {
    const logprobs = { content: [], refusal: null };
    const out = run([chunk([choice({ function_call: { name: 'f', arguments: '{}' } }, 'function_call', { logprobs })])]);
    expect(out.map((c) => c.choices[0])).toEqual([
      { index: 0, delta: { function_call: { name: 'f', arguments: '{}' } }, logprobs, finish_reason: null },
      { index: 0, delta: {}, logprobs: null, finish_reason: 'function_call' },
    ]);
  });

  it('moves inline usage to a trailing usage chunk only when the client asked for usage', () => {
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
    const stream = [chunk([choice({ content: 'a' })]), chunk([choice({}, 'stop')], { usage })];
    expect(run(stream).at(-1)?.usage).toEqual(usage);
    const separated = run(stream, { ...options, separateUsage: true });
    expect(separated.map((c) => [c.choices.length, c.usage ?? null])).toEqual([
      [1, null],
      [1, null],
      [0, usage],
    ]);
  });
});

describe('normaliseResponse', () => {
  it('fills what OpenAI always sends and Mistral omits (tool call type, logprobs, refusal, content)', () => {
    const body = JSON.parse(fixture('vercel-ai/mistral/mistral-tool-call.json')) as ChatResponse;
    const out = normaliseResponse(body);
    expect(out.choices[0]).toMatchObject({ logprobs: null, message: { content: null, refusal: null, tool_calls: [{ type: 'function' }] } });
    expect(responseErrors(out)).toEqual([]);
  });

  it('drops `tool_calls: null`, a null system_fingerprint and a non-OpenAI service_tier (Groq)', () => {
    const text = normaliseResponse(JSON.parse(fixture('vercel-ai/mistral/mistral-text.json')) as ChatResponse);
    expect(text.choices[0]?.message).not.toHaveProperty('tool_calls');
    const groq = normaliseResponse(JSON.parse(fixture('vercel-ai/openai-compatible/groq-text.json')) as ChatResponse);
    expect(groq).not.toHaveProperty('service_tier');
    const openai = normaliseResponse({ ...(JSON.parse(fixture('vercel-ai/openai/openai-text.json')) as ChatResponse), system_fingerprint: null });
    expect(openai.service_tier).toBe('default');
    expect(openai).not.toHaveProperty('system_fingerprint');
  });
});
