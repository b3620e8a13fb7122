import { describe, expect, it } from 'vitest';
import {
  CTX,
  RECORDINGS,
  assemble,
  chunksOf,
  chunksToSse,
  fixture,
  fixtureFiles,
  geminiResponseErrors,
  openaiChunkErrors,
  parseAll,
  parseUntilFailure,
  sseEvents,
} from './__fixtures__/conformance.js';
import { fromGeminiResponse } from './response.js';
import type { GenerateContentResponse } from './wire.js';

interface Recording {
  name: string;
  sse: string;
  vertex: boolean;
}

const recordings: Recording[] = [
  ...fixtureFiles(RECORDINGS, '.sse').map((name) => ({ name, sse: fixture(name), vertex: name.includes('Vertex_AI') })),
  ...fixtureFiles('vercel-ai/google', '.chunks.txt').map((name) => ({ name, sse: chunksToSse(fixture(name)), vertex: false })),
];

/** What a recording says: text, function calls, last finishReason and last usage of candidate 0. */
function expected(sse: string) {
  const events = sseEvents(sse) as GenerateContentResponse[];
  let text = '';
  const calls: { name: string; args: unknown }[] = [];
  let finishReason: string | undefined;
  let usage: GenerateContentResponse['usageMetadata'];
  for (const event of events) {
    const candidate = event.candidates?.[0];
    for (const part of candidate?.content?.parts ?? []) {
      if (typeof part.text === 'string' && !part.thought) text += part.text;
      if (part.functionCall) calls.push({ name: part.functionCall.name, args: part.functionCall.args ?? {} });
    }
    finishReason = candidate?.finishReason ?? finishReason;
    usage = event.usageMetadata ?? usage;
  }
  return { events, text, calls, finishReason, usage };
}

const data = (payload: unknown) => `data: ${JSON.stringify(payload)}\r\n\r\n`;
const textEvent = (text: string, extra: Record<string, unknown> = {}) =>
  data({ candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0, ...extra }], responseId: 'r1', modelVersion: 'gemini-x' });

describe('parseGeminiStream on recorded Gemini streams', () => {
  it('has the recordings', () => {
    expect(recordings.length).toBeGreaterThanOrEqual(9);
  });

  it.each(recordings)('$name: what the recording says, however the bytes are split', async ({ sse, vertex }) => {
    const want = expected(sse);
    if (!vertex) for (const event of want.events) expect(geminiResponseErrors(event)).toEqual([]);
    const whole = await parseAll(sse);
    expect(await parseAll(sse, 7)).toEqual(whole);
    expect(await parseAll(sse, 1)).toEqual(whole);

    const chunks = chunksOf(whole);
    for (const chunk of chunks) expect(openaiChunkErrors(chunk)).toEqual([]);
    expect(new Set(chunks.map((c) => `${c.id}|${c.model}|${c.created}`)).size).toBe(1);
    const startsWithCall = !want.events.some((e) => e.candidates?.[0]?.content?.parts?.some((p) => p.text)) && want.calls.length > 0;
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: startsWithCall ? null : '' });

    const response = assemble(chunks);
    const choice = response.choices[0];
    expect(response.choices).toHaveLength(1);
    expect(choice?.message.content).toBe(want.calls.length > 0 && !want.text ? null : want.text);
    expect((choice?.message.tool_calls ?? []).map((c) => ({ name: c.function.name, args: JSON.parse(c.function.arguments) }))).toEqual(
      want.calls,
    );
    for (const call of choice?.message.tool_calls ?? []) expect(call.id).toMatch(/^call_[0-9a-f]{24}$/);
    const finish = want.finishReason === 'MAX_TOKENS' ? 'length' : want.calls.length > 0 ? 'tool_calls' : 'stop';
    expect(choice?.finish_reason).toBe(finish);

    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    const u = want.usage ?? {};
    const thoughts = u.thoughtsTokenCount ?? 0;
    expect(last?.usage).toMatchObject({
      prompt_tokens: u.promptTokenCount ?? 0,
      completion_tokens: (u.candidatesTokenCount ?? 0) + thoughts,
      total_tokens: u.totalTokenCount,
    });
    if (thoughts > 0) expect(last?.usage?.completion_tokens_details).toEqual({ reasoning_tokens: thoughts });
    expect(response.model).toBe((want.events.at(-1) as { modelVersion?: string }).modelVersion);
  });

  it('gives a streamed tool call the same id as the same answer not streamed', async () => {
    const sse = fixture(`${RECORDINGS}/AFC_Streaming_Tests_generateContentStream_afc_enabled_Google_AI_AFC_enabled.0.sse`);
    const body = sseEvents(sse)[0] as GenerateContentResponse;
    const streamed = assemble(chunksOf(await parseAll(sse))).choices[0]?.message.tool_calls;
    const whole = fromGeminiResponse(body, CTX).choices[0]?.message.tool_calls;
    expect(streamed?.[0]?.id).toBeDefined();
    expect(streamed).toEqual(whole);
  });

  it('numbers tool calls across events and gives each its complete arguments in one delta', async () => {
    const call = (name: string, args: object) =>
      data({ candidates: [{ content: { role: 'model', parts: [{ functionCall: { name, args } }] }, index: 0 }], responseId: 'r2' });
    const sse = call('a', { x: 1 }) + call('b', {}) + data({ candidates: [{ content: { parts: [{ text: '' }] }, finishReason: 'STOP' }], responseId: 'r2' });
    const chunks = chunksOf(await parseAll(sse));
    const deltas = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(deltas.map((d) => [d.index, d.function?.name, d.function?.arguments, d.type])).toEqual([
      [0, 'a', '{"x":1}', 'function'],
      [1, 'b', '{}', 'function'],
    ]);
    expect(new Set(deltas.map((d) => d.id)).size).toBe(2);
    expect(assemble(chunks).choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('turns thought parts into reasoning_content', async () => {
    const sse =
      data({ candidates: [{ content: { parts: [{ text: 'thinking…', thought: true }] } }] }) +
      data({ candidates: [{ content: { parts: [{ text: 'answer' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, thoughtsTokenCount: 5, totalTokenCount: 9 } });
    const response = assemble(chunksOf(await parseAll(sse)));
    expect(response.choices[0]?.message).toMatchObject({ content: 'answer', reasoning_content: 'thinking…' });
    expect(response.usage).toEqual({ prompt_tokens: 3, completion_tokens: 6, total_tokens: 9, completion_tokens_details: { reasoning_tokens: 5 } });
  });

  it('keeps several candidates apart (n > 1)', async () => {
    const two = (a: string, b: string, finish?: string) =>
      data({
        candidates: [
          { content: { parts: [{ text: a }] }, index: 0, ...(finish ? { finishReason: finish } : {}) },
          { content: { parts: [{ text: b }] }, index: 1, ...(finish ? { finishReason: finish } : {}) },
        ],
      });
    const response = assemble(chunksOf(await parseAll(two('A1', 'B1') + two('A2', 'B2', 'STOP'))));
    expect(response.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, 'A1A2', 'stop'],
      [1, 'B1B2', 'stop'],
    ]);
  });

  it('maps a safety stop to content_filter and comments to keep-alives', async () => {
    const events = await parseAll(`: ping\n\n${textEvent('Once upon')}${textEvent('', { finishReason: 'SAFETY' })}`);
    expect(events[0]).toEqual({ type: 'keepalive' });
    expect(assemble(chunksOf(events)).choices[0]?.finish_reason).toBe('content_filter');
  });
});

describe('parseGeminiStream failures', () => {
  const recorded = fixture(`${RECORDINGS}/Chats_Tests_sendMessage_Google_AI_with_text_stream.0.sse`);

  it('is a stream_cut when the connection closes before a finishReason', async () => {
    const blocks = recorded.split('\r\n\r\n').filter((b) => b.trim());
    const cut = blocks.slice(0, -1).map((b) => `${b}\r\n\r\n`).join('');
    const { events, failure } = await parseUntilFailure(cut, 5);
    expect(failure).toMatchObject({ kind: 'stream_cut', code: 'no_finish_reason' });
    expect(chunksOf(events).length).toBeGreaterThan(1);
  });

  it('classifies an error event before any output, with the RetryInfo delay', async () => {
    const error = fixtureJson429();
    const { failure } = await parseUntilFailure(data(error), 3);
    expect(failure).toMatchObject({ kind: 'rate_limited', retryAfterMs: 34_400, status: 429 });
  });

  it('makes an error event after output a stream_cut that keeps the provider code', async () => {
    const { failure } = await parseUntilFailure(textEvent('partial') + data({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }));
    expect(failure).toMatchObject({ kind: 'stream_cut', code: 'UNAVAILABLE' });
  });

  it('reads an error envelope sent as the whole body of an event-stream response', async () => {
    const recordedError = JSON.stringify(
      (JSON.parse(fixture(`${RECORDINGS}/Chats_Tests_sendMessage_Send_message_stream_with_error.0.response.json`)) as { body: unknown }).body,
      null,
      2,
    );
    const { failure } = await parseUntilFailure(recordedError, 7);
    expect(failure).toMatchObject({ kind: 'model_not_found', status: 404, code: 'NOT_FOUND' });
  });

  it('treats malformed JSON as malformed_response before output and stream_cut after', async () => {
    expect((await parseUntilFailure('data: {"candidates":[\r\n\r\n')).failure).toMatchObject({ kind: 'malformed_response', code: 'malformed_chunk' });
    expect((await parseUntilFailure(`${textEvent('hi')}data: {oops\r\n\r\n`)).failure).toMatchObject({ kind: 'stream_cut', code: 'malformed_chunk' });
    expect((await parseUntilFailure('data: [1,2]\r\n\r\n')).failure?.kind).toBe('malformed_response');
  });

  it('is content_policy for a blocked prompt', async () => {
    const { failure } = await parseUntilFailure(data({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 5 } }));
    expect(failure).toMatchObject({ kind: 'content_policy', code: 'PROHIBITED_CONTENT' });
    expect(failure?.message).toContain('PROHIBITED_CONTENT');
  });

  it('is malformed_response for MALFORMED_FUNCTION_CALL', async () => {
    const { failure } = await parseUntilFailure(data({ candidates: [{ content: { parts: [] }, finishReason: 'MALFORMED_FUNCTION_CALL' }] }));
    expect(failure).toMatchObject({ kind: 'malformed_response', code: 'MALFORMED_FUNCTION_CALL' });
  });

  it('says what a body that is not SSE is, and scrubs keys from error messages', async () => {
    expect((await parseUntilFailure('<html>502 Bad Gateway</html>')).failure).toMatchObject({ kind: 'malformed_response', code: 'not_sse' });
    expect((await parseUntilFailure('')).failure).toMatchObject({ kind: 'stream_cut', code: 'empty_body' });
    const leaky = { error: { code: 400, message: 'API key not valid: AIzaSyTHISISNOTAREALKEY000000000000', status: 'INVALID_ARGUMENT' } };
    const { failure } = await parseUntilFailure(data(leaky));
    expect(failure?.kind).toBe('upstream_auth');
    expect(failure?.message).not.toContain('AIza');
  });
});

function fixtureJson429(): unknown {
  return JSON.parse(fixture('errors/gemini.resource_exhausted.429.json'));
}
