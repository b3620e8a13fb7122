import { describe, expect, it } from 'vitest';
import type { ChatResponse } from '../../canonical/chat.js';
import { ChunkAssembler } from '../../canonical/chunks.js';
import { isUpstreamFailure } from '../../canonical/failure.js';
import type { UpstreamEvent } from '../target.js';
import { chunksToSse, openaiProblems, read, recordedStreams } from './__fixtures__/conformance.js';
import { referenceAnswer } from './__fixtures__/reference.js';
import type { ResponseContext } from './response.js';
import { parseAnthropicStream } from './stream.js';

const CONTEXT: ResponseContext = { created: 1_700_000_000 };

async function* pieces(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function run(text: string, size = 1 << 20, context: ResponseContext = CONTEXT): Promise<UpstreamEvent[]> {
  const events: UpstreamEvent[] = [];
  for await (const event of parseAnthropicStream(pieces(text, size), context, ['sk-ant-secret-key'])) events.push(event);
  return events;
}

async function failureOf(text: string, size?: number): Promise<{ kind: string; code?: string | undefined; events: number }> {
  const events: UpstreamEvent[] = [];
  try {
    for await (const event of parseAnthropicStream(pieces(text, size ?? 1 << 20), CONTEXT, [])) events.push(event);
  } catch (error) {
    if (isUpstreamFailure(error)) return { kind: error.kind, code: error.details.code, events: events.length };
    throw error;
  }
  throw new Error('expected a failure');
}

function assemble(events: UpstreamEvent[]): ChatResponse {
  const assembler = new ChunkAssembler();
  for (const e of events) if (e.type === 'chunk') assembler.add(e.chunk);
  return assembler.result();
}

const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

const recordings = recordedStreams();
const ev = (data: object): string => `event: ${(data as { type: string }).type}\ndata: ${JSON.stringify(data)}\n\n`;
const START = ev({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, usage: { input_tokens: 5, output_tokens: 1 } } });
const TEXT_BLOCK = ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
const text = (t: string): string => ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } });
const END = ev({ type: 'content_block_stop', index: 0 }) + ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } }) + ev({ type: 'message_stop' });

describe('parseAnthropicStream on every recorded Anthropic stream', () => {
  expect(recordings.length).toBeGreaterThanOrEqual(18);

  it.each(recordings)('$name: the same however the bytes are split, and equal to the recording', async ({ sse }) => {
    const whole = await run(sse);
    expect(await run(sse, 7)).toEqual(whole);
    expect(await run(sse, 1)).toEqual(whole);

    const ref = referenceAnswer(sse);
    expect(ref.stopped).toBe(true);
    const response = assemble(whole);
    const choice = response.choices[0];
    const message = choice?.message;
    expect(response.choices).toHaveLength(1);
    expect(choice?.finish_reason).toBe(FINISH[ref.stopReason ?? 'end_turn']);
    expect(message?.content ?? '').toBe(ref.text);
    expect(message?.reasoning_content ?? '').toBe(ref.thinking);

    const calls = message?.tool_calls ?? [];
    expect(calls.map((c) => [c.id, c.function.name])).toEqual(ref.tools.map((t) => [t.id, t.name]));
    calls.forEach((call, i) => {
      const partial = ref.tools[i]?.partialJson ?? '';
      if (ref.stopReason === 'max_tokens') {
        expect(call.function.arguments).toBe(partial); // cut by max_tokens: as far as it came
      } else {
        expect(JSON.parse(call.function.arguments)).toEqual(partial === '' ? {} : JSON.parse(partial));
      }
    });

    const cacheRead = ref.usage.cache_read_input_tokens ?? 0;
    const cacheCreation = ref.usage.cache_creation_input_tokens ?? 0;
    const prompt = (ref.usage.input_tokens ?? 0) + cacheRead + cacheCreation;
    expect(response.usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: ref.usage.output_tokens, total_tokens: prompt + (ref.usage.output_tokens ?? 0) });

    // OpenAI's stream shape: a role chunk first, one finish chunk, then the usage chunk last.
    const chunks = whole.flatMap((e) => (e.type === 'chunk' ? [e.chunk] : []));
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.filter((c) => c.choices.some((x) => x.finish_reason))).toHaveLength(1);
    expect(chunks.at(-1)?.choices).toEqual([]);
    for (const chunk of chunks) expect(openaiProblems('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
    expect(openaiProblems('CreateChatCompletionResponse', response)).toEqual([]);
    expect(chunks.every((c) => c.model === chunks[0]?.model && c.id === chunks[0]?.id && c.created === CONTEXT.created)).toBe(true);
  });

  it('reports pings as keep-alives', async () => {
    const events = await run(read('anthropic/sdk-python/basic_response.sse'));
    expect(events.filter((e) => e.type === 'keepalive')).toHaveLength(1);
  });

  it('numbers tool calls by tool, not by content block', async () => {
    const events = await run(read('anthropic/sdk-python/tool_use_response.sse'));
    const deltas = events.flatMap((e) => (e.type === 'chunk' ? (e.chunk.choices[0]?.delta.tool_calls ?? []) : []));
    expect(deltas[0]).toEqual({ index: 0, id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn', type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(deltas.slice(1).every((d) => d.index === 0 && d.id === undefined && typeof d.function?.arguments === 'string')).toBe(true);
  });

  it('completes a tool call that streamed no arguments as {}', async () => {
    const response = assemble(await run(chunksToSse(read('vercel-ai/anthropic/anthropic-tool-no-args.chunks.txt'))));
    expect(response.choices[0]?.message.tool_calls?.[0]?.function).toEqual({ name: 'updateIssueList', arguments: '{}' });
  });

  it('skips server tools (web search) and their results', async () => {
    const response = assemble(await run(chunksToSse(read('vercel-ai/anthropic/anthropic-web-search-tool.1.chunks.txt'))));
    expect(response.choices[0]?.message.tool_calls).toBeUndefined();
    expect(response.choices[0]?.message.content).not.toBe('');
  });

  it('keeps thinking as reasoning_content and its signed block in thinking_blocks', async () => {
    const events = await run(read('anthropic/sdk-typescript/stream-a-refusal.sse'));
    const blocks = events.flatMap((e) => (e.type === 'chunk' ? ((e.chunk.choices[0]?.delta.thinking_blocks as unknown[]) ?? []) : []));
    expect(blocks).toEqual([
      {
        type: 'thinking',
        thinking: referenceAnswer(read('anthropic/sdk-typescript/stream-a-refusal.sse')).thinking,
        signature: 'c3ludGhldGljLXNpZ25hdHVyZS1maXh0dXJlLWEtbm90LWEtcmVhbC1zaWduYXR1cmU=',
      },
    ]);
    const response = assemble(events);
    expect(response.usage?.completion_tokens_details).toEqual({ reasoning_tokens: 67 });
  });

  it('a refusal is content_filter, with the stated reason as the refusal', async () => {
    const response = assemble(await run(read('anthropic/sdk-python/refusal_response.sse')));
    expect(response.choices[0]?.finish_reason).toBe('content_filter');
    expect(response.choices[0]?.message.refusal).toBe('This request was refused due to policy.');
  });

  it('uses the latest cumulative usage (message_delta may restate input tokens)', async () => {
    const response = assemble(await run(chunksToSse(read('vercel-ai/anthropic/anthropic-message-delta-input-tokens.chunks.txt'))));
    expect(response.usage).toMatchObject({ prompt_tokens: 61, completion_tokens: 2, total_tokens: 63 });
  });

  it('a repeated message_start adds nothing', async () => {
    const events = await run(chunksToSse(read('vercel-ai/anthropic/duplicate-message-start.chunks.txt')));
    const roles = events.filter((e) => e.type === 'chunk' && e.chunk.choices[0]?.delta.role === 'assistant');
    expect(roles).toHaveLength(1);
    expect(assemble(events).choices[0]?.message.content).toBe('Hello, World!');
  });

  it('a tool call cut by max_tokens (incomplete partial JSON) finishes as length with the arguments so far', async () => {
    const sse = read('anthropic/sdk-typescript/incomplete_partial_json_response.sse');
    const response = assemble(await run(sse));
    const call = response.choices[0]?.message.tool_calls?.[0];
    expect(response.choices[0]?.finish_reason).toBe('length');
    expect(call?.function.name).toBe('make_file');
    expect(() => JSON.parse(call?.function.arguments ?? '')).toThrow();
  });
});

describe('emulated JSON output (answer tool) in a stream', () => {
  it('streams the answer tool input as text content and finishes with stop', async () => {
    const sse = chunksToSse(read('vercel-ai/anthropic/anthropic-json-tool.1.chunks.txt'));
    const response = assemble(await run(sse, 5, { ...CONTEXT, jsonTool: 'json' }));
    const message = response.choices[0]?.message;
    expect(message?.tool_calls).toBeUndefined();
    expect(JSON.parse(message?.content ?? '')).toEqual({ elements: [{ location: 'San Francisco', temperature: 58, condition: 'sunny' }] });
    expect(response.choices[0]?.finish_reason).toBe('stop');
  });
});

describe('parseAnthropicStream failure classification', () => {
  it('the recorded mid-stream overloaded_error, before any output, is overloaded', async () => {
    expect(await failureOf(read('errors/anthropic.overloaded_error.midstream.sse'))).toMatchObject({ kind: 'overloaded', code: 'overloaded_error' });
    expect(await failureOf(START + read('errors/anthropic.overloaded_error.midstream.sse'))).toMatchObject({ kind: 'overloaded' });
  });

  it('the same error after output is a cut', async () => {
    const sse = START + TEXT_BLOCK + text('Hel') + read('errors/anthropic.overloaded_error.midstream.sse');
    expect(await failureOf(sse, 3)).toEqual({ kind: 'stream_cut', code: 'overloaded_error', events: 2 });
  });

  it.each([
    ['rate_limit_error', 'rate_limited'],
    ['api_error', 'server_error'],
    ['timeout_error', 'server_error'],
    ['authentication_error', 'upstream_auth'],
    ['brand_new_error', 'server_error'],
  ])('an in-stream %s is %s', async (type, kind) => {
    expect((await failureOf(START + ev({ type: 'error', error: { type, message: 'x' } }))).kind).toBe(kind);
  });

  it('a stream that ends without message_stop is cut, even after message_delta', async () => {
    expect(await failureOf(START + TEXT_BLOCK + text('Hel'))).toMatchObject({ kind: 'stream_cut', code: 'no_message_stop' });
    const noStop = START + TEXT_BLOCK + text('Hello') + END.replace(/event: message_stop[^]*$/, '');
    const failure = await failureOf(noStop);
    expect(failure).toMatchObject({ kind: 'stream_cut', code: 'no_message_stop' });
    expect(failure.events).toBe(2); // role + text: no finish chunk was let out
    expect((await failureOf('')).kind).toBe('stream_cut');
  });

  it('an unparseable event is malformed before output and a cut after', async () => {
    expect(await failureOf(START + 'event: content_block_start\ndata: {"type":"content_blo\n\n')).toMatchObject({ kind: 'malformed_response', code: 'malformed_event' });
    expect(await failureOf(START + TEXT_BLOCK + text('Hi') + 'event: content_block_delta\ndata: {"type":\n\n')).toMatchObject({ kind: 'stream_cut', code: 'malformed_event' });
    expect((await failureOf(START + ev({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'x' } }))).kind).toBe('malformed_response');
  });

  it('content before message_start is malformed', async () => {
    expect(await failureOf(TEXT_BLOCK + text('x'))).toMatchObject({ kind: 'malformed_response', code: 'bad_event_order' });
  });

  it('a body that is not SSE at all is malformed', async () => {
    expect((await failureOf('<html><body>502 Bad Gateway</body></html>')).kind).toBe('malformed_response');
  });

  it('ignores unknown event, block and delta types', async () => {
    const sse =
      START +
      ev({ type: 'brand_new_event', stuff: 1 }) +
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'hologram', data: 'x' } }) +
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'hologram_delta', data: 'y' } }) +
      ev({ type: 'content_block_stop', index: 0 }) +
      ev({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }) +
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'citations_delta', citation: {} } }) +
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'ok' } }) +
      END.replace('"index":0', '"index":1');
    expect(assemble(await run(sse)).choices[0]?.message.content).toBe('ok');
  });

  it('stops at message_stop without reading further', async () => {
    const events = await run(START + TEXT_BLOCK + text('a') + END + 'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"late"}}\n\n');
    expect(assemble(events).choices[0]?.message.content).toBe('a');
  });

  it('scrubs the key from an in-stream error message', async () => {
    const sse = START + ev({ type: 'error', error: { type: 'api_error', message: 'bad key sk-ant-secret-key' } });
    await expect(run(sse)).rejects.toSatisfy((e: unknown) => isUpstreamFailure(e) && !e.message.includes('sk-ant-secret-key'));
  });
});
