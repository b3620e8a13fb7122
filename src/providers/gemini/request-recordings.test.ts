import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatRequest } from '../../canonical/chat.js';
import { RECORDINGS, fixture, fixtureFiles, geminiRequestErrors } from './__fixtures__/conformance.js';
import { toGeminiRequest, type GeminiRequestOptions } from './request.js';

/**
 * The js-genai recordings' request bodies, as the canonical request a client of Understudy would
 * send for the same intent: our translation must produce the recorded body, up to the
 * differences named in `normalise` (each with its reason).
 */
type Body = Record<string, unknown>;

const divideSchema = { type: 'object', properties: { denominator: { type: 'number' }, numerator: { type: 'number' } } };
const divideTool = { type: 'function', function: { name: 'customDivide', description: 'Custom divide function', parameters: divideSchema } };
const divideCall = (id: string, numerator: number): ChatMessage => ({
  role: 'assistant',
  content: null,
  tool_calls: [{ id, type: 'function', function: { name: 'customDivide', arguments: JSON.stringify({ denominator: 2, numerator }) } }],
});
const user = (content: string): ChatMessage => ({ role: 'user', content });
const sky = [user('why is the sky blue?')];
const chat = (messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'route', messages, ...extra });
const jsonSchemaRequest = JSON.parse(
  fixture(`${RECORDINGS}/Client_Tests_generateContent_ML_Dev_should_generate_content_with_given_valid_json_schema_in_responseSchema.0.request.json`),
) as { generationConfig: { responseJsonSchema: unknown } };

interface Case {
  request: ChatRequest;
  opts?: GeminiRequestOptions;
}

const CASES: Record<string, Case | { skip: string }> = {
  'AFC_Streaming_Tests_generateContentStream_afc_enabled_Google_AI_AFC_enabled.0': {
    request: chat([user('Divide 10 by 2 using the customDivide function')], { tools: [divideTool], tool_choice: 'auto' }),
  },
  'AFC_Streaming_Tests_generateContentStream_afc_enabled_Google_AI_AFC_enabled.1': {
    request: chat(
      [user('Divide 10 by 2 using the customDivide function'), divideCall('call_1', 10), { role: 'tool', tool_call_id: 'call_1', content: '{"output":42}' }],
      { tools: [divideTool], tool_choice: 'auto' },
    ),
  },
  'Chats_Tests_chats_function_calling_Google_AI_with_function_calling.0': { request: chat([user('what is the result of 100/2')], { tools: [divideTool] }) },
  'Chats_Tests_chats_function_calling_Google_AI_with_function_calling.1': {
    request: chat([user('what is the result of 100/2'), divideCall('call_1', 100), user('what is the result of 50/2?')], { tools: [divideTool] }),
  },
  'Chats_Tests_chats_function_calling_Google_AI_with_function_calling_stream.0': {
    request: chat([user('what is the result of 100/2')], { tools: [divideTool], stream: true }),
  },
  'Chats_Tests_chats_function_calling_Google_AI_with_function_calling_stream.1': {
    request: chat([user('what is the result of 100/2'), divideCall('call_1', 100), user('what is the result of 50/2?')], { tools: [divideTool], stream: true }),
  },
  'Chats_Tests_sendMessage_Google_AI_with_text.0': { request: chat(sky) },
  'Chats_Tests_sendMessage_Google_AI_with_text_stream.0': { request: chat(sky, { stream: true }) },
  'Chats_Tests_sendMessage_Send_message_stream_with_error.0': { request: chat(sky, { stream: true }) },
  'Client_Tests_countTokens_ML_Dev_should_count_tokens_with_specified_parameters.0': { skip: 'a countTokens request, not generateContent' },
  'Client_Tests_generateContentStream_ML_Dev_should_stream_generate_content_with_specified_parameters.0': {
    request: chat(sky, { n: 1, max_tokens: 200, stream: true }),
  },
  'Client_Tests_generateContentStream_ML_Dev_should_stream_generate_content_with_system_instruction.0': {
    request: chat([{ role: 'system', content: 'I say high you say low, and then tell me why is the sky blue.' }, user('high')], { n: 1, stream: true }),
  },
  'Client_Tests_generateContentStream_Vertex_AI_should_stream_generate_content_with_specified_parameters.0': {
    request: chat(sky, { n: 1, max_tokens: 200, stream: true }),
  },
  'Client_Tests_generateContent_ML_Dev_should_generate_content_with_given_valid_json_schema_in_responseSchema.0': {
    request: chat([user('populate the following object')], {
      response_format: { type: 'json_schema', json_schema: { name: 'object', schema: jsonSchemaRequest.generationConfig.responseJsonSchema } },
    }),
  },
  'Client_Tests_generateContent_ML_Dev_should_generate_content_with_specified_parameters.0': { request: chat(sky, { n: 1, max_tokens: 200 }) },
  'Client_Tests_test_thinking_generate_content_should_return_thought_field.0': {
    request: chat([user('What is the sum of natural numbers from 1 to 100?')], { n: 1, max_tokens: 20 }),
    opts: { includeThoughts: true },
  },
};

/** The recorded body, with what Understudy deliberately does differently brought to our form. */
function normalise(recorded: Body): Body {
  const out = structuredClone(recorded);
  const config = out.generationConfig as Body | undefined;
  // `thinkingBudget: 50` has no reasoning_effort that means it (ours are 0/512/1K/8K/24K).
  const thinking = config?.thinkingConfig as Body | undefined;
  if (thinking && 'thinkingBudget' in thinking) delete thinking.thinkingBudget;
  if (thinking && Object.keys(thinking).length === 0) delete config?.thinkingConfig;
  // js-genai always sends `generationConfig: {}`; we leave out what is empty.
  if (config && Object.keys(config).length === 0) delete out.generationConfig;
  // js-genai labels the system instruction `role: "user"`; Gemini needs no role there.
  if (out.systemInstruction) delete (out.systemInstruction as Body).role;
  // js-genai sends the OpenAPI-subset `parameters` (uppercase types); we send the client's JSON Schema as `parametersJsonSchema`.
  for (const tool of (out.tools as { functionDeclarations?: Body[] }[] | undefined) ?? []) {
    for (const declaration of tool.functionDeclarations ?? []) {
      if (declaration.parameters) {
        declaration.parametersJsonSchema = lowercaseTypes(declaration.parameters);
        delete declaration.parameters;
      }
    }
  }
  return out;
}

function lowercaseTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(lowercaseTypes);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [key, key === 'type' && typeof value === 'string' ? value.toLowerCase() : lowercaseTypes(value)]),
  );
}

const files = fixtureFiles(RECORDINGS, '.request.json').map((path) => ({
  path,
  stem: path.slice(RECORDINGS.length + 1, -'.request.json'.length),
}));

describe('toGeminiRequest reproduces the recorded js-genai requests', () => {
  it('has a case (or a reason to skip) for every recorded request', () => {
    expect(files.map((f) => f.stem).sort()).toEqual(Object.keys(CASES).sort());
  });

  const run = files.flatMap(({ path, stem }) => {
    const test = CASES[stem];
    return test && 'request' in test ? [{ path, stem, test }] : [];
  });
  const skipped = files.flatMap(({ stem }) => {
    const test = CASES[stem];
    return test && 'skip' in test ? [{ stem, reason: test.skip }] : [];
  });

  it.each(run)('$stem', ({ path, test }) => {
    const recorded = JSON.parse(fixture(path)) as Body;
    expect(geminiRequestErrors(recorded)).toEqual([]);
    const { body, droppedParams } = toGeminiRequest(test.request, 'gemini-2.0-flash', test.opts);
    expect(geminiRequestErrors(body)).toEqual([]);
    expect(droppedParams).toEqual([]);
    expect(body).toEqual(normalise(recorded));
  });

  it.skip.each(skipped)('$stem: $reason', () => undefined);
});
