/**
 * Conformance: every recorded OpenAI-wire stream and body of ../shared/conformance (vercel/ai's
 * OpenAI, Azure OpenAI, Mistral, DeepSeek, Groq and xAI recordings) through the stream parser and
 * normaliser. What the client would see must validate against OpenAI's chunk schema and keep
 * OpenAI's stream invariants; what the engine assembles must equal what the recording contains.
 */
import { describe, expect, it } from 'vitest';
import type { ChatChunk, FinishReason } from '../../canonical/chat.js';
import { chunkHasOutput } from '../../canonical/chunks.js';
import {
  assemble,
  chunksOf,
  chunksToSse,
  fixture,
  fixtureFiles,
  parseAll,
  responseErrors,
  streamProblems,
} from './__fixtures__/conformance.js';
import { classifyHttpError } from './errors.js';
import type { StreamNormaliserOptions } from './normalise.js';
import { parseOpenAIResponse } from './response.js';

const FOLDERS = ['vercel-ai/mistral', 'vercel-ai/openai', 'vercel-ai/openai-compatible', 'vercel-ai/azure-openai'];

interface Expected {
  finish: FinishReason;
  /** prompt, completion, total tokens. */
  usage: [number, number, number];
  tools?: { name: string; args: unknown }[];
}

/** Read off each recording by hand; the text and reasoning are compared with the raw deltas' concatenation. */
const EXPECTED: Record<string, Expected> = {
  'vercel-ai/mistral/mistral-incremental-tool-call.chunks.txt': {
    finish: 'tool_calls',
    usage: [171, 14, 185],
    tools: [{ name: 'webSearchTool', args: { query: 'current Berlin weather' } }],
  },
  'vercel-ai/mistral/mistral-text.chunks.txt': { finish: 'stop', usage: [13, 8, 21] },
  'vercel-ai/mistral/mistral-tool-call.chunks.txt': {
    finish: 'tool_calls',
    usage: [124, 22, 146],
    tools: [{ name: 'weather', args: { location: 'San Francisco' } }],
  },
  'vercel-ai/openai/openai-text.chunks.txt': { finish: 'stop', usage: [16, 300, 316] },
  'vercel-ai/openai-compatible/deepseek-text.chunks.txt': { finish: 'length', usage: [13, 400, 413] },
  'vercel-ai/openai-compatible/deepseek-tool-call.chunks.txt': {
    finish: 'tool_calls',
    usage: [339, 83, 422],
    tools: [{ name: 'weather', args: { location: 'San Francisco' } }],
  },
  'vercel-ai/openai-compatible/groq-text.chunks.txt': { finish: 'stop', usage: [45, 662, 707] },
  'vercel-ai/openai-compatible/groq-tool-call.chunks.txt': { finish: 'tool_calls', usage: [210, 15, 225], tools: [{ name: 'weather', args: {} }] },
  'vercel-ai/openai-compatible/xai-text.chunks.txt': { finish: 'stop', usage: [12, 1, 303] },
  'vercel-ai/openai-compatible/xai-tool-call.chunks.txt': {
    finish: 'tool_calls',
    usage: [291, 26, 513],
    tools: [{ name: 'weather', args: { location: 'San Francisco' } }],
  },
  'vercel-ai/azure-openai/azure-model-router.1.chunks.txt': { finish: 'stop', usage: [15, 78, 93] },
};

const streams = FOLDERS.flatMap((folder) => fixtureFiles(folder, '.chunks.txt'));
const bodies = FOLDERS.flatMap((folder) => fixtureFiles(folder, '.json'));

const FALLBACK = { id: 'chatcmpl-fallback', created: 1, model: 'fallback' };
const plain: StreamNormaliserOptions = { fallbackIdentity: FALLBACK, separateUsage: false };
const withUsage: StreamNormaliserOptions = { fallbackIdentity: FALLBACK, separateUsage: true };

interface RawDelta {
  content?: unknown;
  reasoning_content?: unknown;
}

/** What the recording itself says, read straight from its lines. */
function raw(path: string) {
  const chunks = fixture(path)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { id: string; created: number; model: string; choices: { delta?: RawDelta }[] });
  const deltas = chunks.flatMap((c) => c.choices.map((ch) => ch.delta ?? {}));
  const join = (field: keyof RawDelta): string => deltas.map((d) => (typeof d[field] === 'string' ? d[field] : '')).join('');
  const first = chunks.find((c) => c.id !== '');
  return { text: join('content'), reasoning: join('reasoning_content'), id: first?.id, created: first?.created, model: first?.model };
}

describe('recorded OpenAI-compatible streams, normalised', () => {
  it('every recording has its expectations written down', () => {
    expect(streams.length).toBe(11);
    expect(streams.filter((s) => !EXPECTED[s])).toEqual([]);
  });

  describe.each(streams)('%s', (path) => {
    const expected = EXPECTED[path] as Expected;
    const sse = chunksToSse(fixture(path));
    const recording = raw(path);

    it('is schema-valid, keeps one identity and OpenAI’s invariants, whatever the byte split', async () => {
      const events = await parseAll(sse, plain);
      expect(await parseAll(sse, plain, 7)).toEqual(events);
      const chunks = chunksOf(events);
      expect(streamProblems(chunks)).toEqual([]);
      expect(chunks.every((c) => c.id === recording.id && c.created === recording.created && c.model === recording.model)).toBe(true);
      // The finish_reason comes on its own, in a chunk with `delta: {}`.
      const finishing = chunks.filter((c) => c.choices.some((ch) => ch.finish_reason));
      expect(finishing.length).toBe(1);
      expect(finishing[0]?.choices[0]?.delta).toEqual({});
    });

    it('assembles to what the recording contains: text, reasoning, tool calls, finish reason, usage', async () => {
      const response = assemble(chunksOf(await parseAll(sse, plain)));
      const choice = response.choices[0];
      expect(response.choices.length).toBe(1);
      expect(choice?.finish_reason).toBe(expected.finish);
      expect(choice?.message.content ?? '').toBe(recording.text);
      expect(choice?.message.reasoning_content ?? '').toBe(recording.reasoning);
      const calls = choice?.message.tool_calls ?? [];
      expect(calls.map((c) => ({ name: c.function.name, args: JSON.parse(c.function.arguments) as unknown }))).toEqual(expected.tools ?? []);
      for (const call of calls) expect(call.id).not.toBe('');
      const u = response.usage;
      expect([u?.prompt_tokens, u?.completion_tokens, u?.total_tokens]).toEqual(expected.usage);
    });

    it('with include_usage, usage comes last in OpenAI’s own `choices: []` chunk, and only there', async () => {
      const chunks = chunksOf(await parseAll(sse, withUsage));
      expect(streamProblems(chunks)).toEqual([]);
      const last = chunks.at(-1) as ChatChunk;
      expect(last.choices).toEqual([]);
      expect([last.usage?.prompt_tokens, last.usage?.completion_tokens, last.usage?.total_tokens]).toEqual(expected.usage);
      expect(chunks.slice(0, -1).filter((c) => c.usage)).toEqual([]);
      expect(assemble(chunks)).toEqual(assemble(chunksOf(await parseAll(sse, plain))));
    });
  });

  it('reasoning deltas count as output for the first-token watchdog (DeepSeek, xAI)', async () => {
    const firstOutput = async (path: string) => {
      const chunks = chunksOf(await parseAll(chunksToSse(fixture(path)), plain));
      return chunks.find(chunkHasOutput)?.choices[0]?.delta;
    };
    expect(await firstOutput('vercel-ai/openai-compatible/deepseek-tool-call.chunks.txt')).toEqual({ content: null, reasoning_content: 'The' });
    expect(await firstOutput('vercel-ai/openai-compatible/xai-text.chunks.txt')).toEqual({ reasoning_content: 'First', role: 'assistant' });
  });
});

describe('recorded OpenAI-compatible bodies, normalised', () => {
  const completions = bodies.filter((p) => !p.endsWith('-error.json') && !p.endsWith('-embedding.json'));

  it('covers every chat-completion body (error and embedding bodies are tested below / not chat)', () => {
    expect(completions.length).toBe(8);
  });

  it.each(completions)('%s: schema-valid and equal to the recording', (path) => {
    const text = fixture(path);
    const original = JSON.parse(text) as {
      choices: { finish_reason: string; message: { content?: string | null; tool_calls?: { function: object }[] | null } }[];
      usage: object;
    };
    const response = parseOpenAIResponse(text);
    expect(responseErrors(response)).toEqual([]);
    const choice = response.choices[0];
    const recorded = original.choices[0];
    expect(choice?.finish_reason).toBe(recorded?.finish_reason);
    expect(choice?.message.content).toBe(recorded?.message.content ?? null);
    expect(choice?.message.tool_calls?.map((c) => c.function)).toEqual(recorded?.message.tool_calls?.map((c) => c.function) ?? undefined);
    for (const call of choice?.message.tool_calls ?? []) expect(call.type).toBe('function');
    expect(response.usage).toEqual(original.usage);
  });

  it('the recorded OpenAI error body is an unsupported parameter', () => {
    const details = classifyHttpError(400, fixture('vercel-ai/openai/reasoning-model-legacy-parameter-error.json'), undefined, []);
    expect(details).toMatchObject({ kind: 'unsupported_parameter', param: 'max_tokens' });
  });
});
