import { describe, expect, it } from 'vitest';
import { isUpstreamFailure, type FailureDetails } from '../../canonical/failure.js';
import { CTX, RECORDINGS, fixture, fixtureFiles, geminiResponseErrors, openaiResponseErrors } from './__fixtures__/conformance.js';
import { fromGeminiResponse, parseGeminiResponse } from './response.js';
import type { GenerateContentResponse } from './wire.js';

interface Recorded {
  name: string;
  body: GenerateContentResponse;
}

const recorded: Recorded[] = [
  ...fixtureFiles(RECORDINGS, '.response.json')
    .map((name) => ({ name, file: JSON.parse(fixture(name)) as { statusCode: number; body: Record<string, unknown> } }))
    .filter(({ file }) => file.statusCode === 200 && 'candidates' in file.body)
    .map(({ name, file }) => ({ name, body: file.body as GenerateContentResponse })),
  ...fixtureFiles('vercel-ai/google', '.json')
    .map((name) => ({ name, body: JSON.parse(fixture(name)) as GenerateContentResponse & { error?: unknown } }))
    .filter(({ body }) => body.error === undefined),
];

function failureOf(fn: () => unknown): FailureDetails {
  try {
    fn();
  } catch (error) {
    if (isUpstreamFailure(error)) return error.details;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('fromGeminiResponse on recorded responses', () => {
  it('has the recordings', () => {
    expect(recorded.length).toBeGreaterThanOrEqual(8);
  });

  it.each(recorded)('$name', ({ body }) => {
    expect(geminiResponseErrors(body)).toEqual([]);
    const response = fromGeminiResponse(body, CTX);
    expect(openaiResponseErrors(response)).toEqual([]);
    const candidate = body.candidates?.[0];
    const parts = candidate?.content?.parts ?? [];
    const text = parts.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('');
    const thoughts = parts.filter((p) => p.thought).map((p) => p.text).join('');
    const calls = parts.flatMap((p) => (p.functionCall ? [p.functionCall] : []));
    const choice = response.choices[0];

    expect(response.id).toBe(body.responseId);
    expect(response.model).toBe(body.modelVersion);
    expect(response.created).toBe(CTX.created);
    expect(choice?.message.content).toBe(calls.length > 0 && !text ? null : text);
    if (thoughts) expect(choice?.message.reasoning_content).toBe(thoughts);
    expect((choice?.message.tool_calls ?? []).map((c) => ({ name: c.function.name, args: JSON.parse(c.function.arguments) }))).toEqual(
      calls.map((c) => ({ name: c.name, args: c.args ?? {} })),
    );
    const want = candidate?.finishReason === 'MAX_TOKENS' ? 'length' : calls.length > 0 ? 'tool_calls' : 'stop';
    expect(choice?.finish_reason).toBe(want);

    const u = body.usageMetadata ?? {};
    expect(response.usage).toMatchObject({
      prompt_tokens: u.promptTokenCount ?? 0,
      completion_tokens: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
      total_tokens: u.totalTokenCount,
    });
    if (u.cachedContentTokenCount) expect(response.usage?.prompt_tokens_details).toEqual({ cached_tokens: u.cachedContentTokenCount });
  });
});

describe('fromGeminiResponse', () => {
  const candidate = (parts: object[], finishReason = 'STOP', index = 0) => ({ content: { role: 'model', parts }, finishReason, index });

  it('keeps thoughts apart from the answer', () => {
    const response = fromGeminiResponse({ candidates: [candidate([{ text: 'hmm', thought: true }, { text: 'Yes.' }])] }, CTX);
    expect(response.choices[0]?.message).toEqual({ role: 'assistant', content: 'Yes.', refusal: null, reasoning_content: 'hmm' });
  });

  it('answers with the requested model and a fallback id when Gemini names neither', () => {
    const response = fromGeminiResponse({ candidates: [candidate([{ text: 'x' }])] }, CTX);
    expect(response.model).toBe(CTX.model);
    expect(response.id).toBe(`gemini-${CTX.created}`);
    expect(response.usage).toBeUndefined();
  });

  it('gives tool calls stable generated ids, or the id Gemini sent', () => {
    const body = { responseId: 'r', candidates: [candidate([{ functionCall: { name: 'f', args: { a: 1 } } }, { functionCall: { name: 'f' } }])] };
    const once = fromGeminiResponse(body, CTX).choices[0]?.message.tool_calls ?? [];
    const again = fromGeminiResponse(body, CTX).choices[0]?.message.tool_calls ?? [];
    expect(once).toEqual(again);
    expect(once.map((c) => c.function.arguments)).toEqual(['{"a":1}', '{}']);
    expect(once[0]?.id).not.toBe(once[1]?.id);
    const withId = fromGeminiResponse({ candidates: [candidate([{ functionCall: { id: 'fc-9', name: 'f', args: {} } }])] }, CTX);
    expect(withId.choices[0]?.message.tool_calls?.[0]?.id).toBe('fc-9');
  });

  it('orders several candidates by index and maps each finish reason', () => {
    const response = fromGeminiResponse({ candidates: [candidate([{ text: 'b' }], 'MAX_TOKENS', 1), { finishReason: 'SAFETY', index: 0 }] }, CTX);
    expect(response.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, '', 'content_filter'],
      [1, 'b', 'length'],
    ]);
  });

  it('is content_policy for a blocked prompt, naming the block reason', () => {
    const failure = failureOf(() => fromGeminiResponse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 } }, CTX));
    expect(failure).toMatchObject({ kind: 'content_policy', code: 'SAFETY' });
    expect(failure.message).toContain('SAFETY');
  });

  it('is malformed_response for MALFORMED_FUNCTION_CALL', () => {
    expect(failureOf(() => fromGeminiResponse({ candidates: [{ finishReason: 'MALFORMED_FUNCTION_CALL', index: 0 }] }, CTX))).toMatchObject({
      kind: 'malformed_response',
      code: 'MALFORMED_FUNCTION_CALL',
    });
  });
});

describe('parseGeminiResponse', () => {
  it('is malformed_response for a body that is not a GenerateContentResponse', () => {
    expect(failureOf(() => parseGeminiResponse('<html>', CTX, []))).toMatchObject({ kind: 'malformed_response', code: 'invalid_json' });
    expect(failureOf(() => parseGeminiResponse('{"choices":[]}', CTX, []))).toMatchObject({ kind: 'malformed_response', code: 'not_a_response' });
    expect(failureOf(() => parseGeminiResponse('{"candidates":{}}', CTX, []))).toMatchObject({ kind: 'malformed_response' });
  });

  it('classifies an error envelope that came with a 2xx', () => {
    const body = JSON.stringify({ error: { code: 500, message: 'An internal error has occurred.', status: 'INTERNAL' } });
    expect(failureOf(() => parseGeminiResponse(body, CTX, []))).toMatchObject({ kind: 'server_error', status: 500, code: 'INTERNAL' });
  });

  it('returns no choices for a body with usage only (the engine calls that empty output)', () => {
    expect(parseGeminiResponse('{"usageMetadata":{"promptTokenCount":1}}', CTX, []).choices).toEqual([]);
  });
});
