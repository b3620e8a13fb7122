import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatRequest } from '../../canonical/chat.js';
import { isUpstreamFailure, type FailureDetails } from '../../canonical/failure.js';
import { geminiRequestErrors } from './__fixtures__/conformance.js';
import { SKIP_SIGNATURE } from './messages.js';
import { toGeminiRequest, type GeminiRequestOptions } from './request.js';
import type { GenerateContentRequest } from './wire.js';

const MODEL = 'gemini-2.0-flash';
const user = (content: ChatMessage['content']): ChatMessage => ({ role: 'user', content });
const chat = (messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'route', messages, ...extra });

/** Translates and checks the body against the STRICT v1beta request schema. */
function translate(req: ChatRequest, model = MODEL, opts: GeminiRequestOptions = {}) {
  const out = toGeminiRequest(req, model, opts);
  expect(geminiRequestErrors(out.body)).toEqual([]);
  return out;
}

function body(req: ChatRequest, model = MODEL, opts: GeminiRequestOptions = {}): GenerateContentRequest {
  return translate(req, model, opts).body;
}

function failure(req: ChatRequest, model = MODEL): FailureDetails {
  try {
    toGeminiRequest(req, model);
  } catch (error) {
    if (isUpstreamFailure(error)) return error.details;
    throw error;
  }
  throw new Error('expected a failure');
}

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  },
};

describe('toGeminiRequest: messages', () => {
  it.each<[string, ChatMessage[], Omit<GenerateContentRequest, 'generationConfig'>]>([
    ['a user turn', [user('hi')], { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }],
    [
      'system and developer messages → one systemInstruction',
      [{ role: 'system', content: 'Be brief.' }, { role: 'developer', content: [{ type: 'text', text: 'No emoji.' }] }, user('hi')],
      { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'No emoji.' }] } },
    ],
    ['system messages only → a user turn', [{ role: 'system', content: 'Say hi.' }], { contents: [{ role: 'user', parts: [{ text: 'Say hi.' }] }] }],
    [
      'assistant → model; consecutive same-role turns merged; empty text dropped',
      [user('a'), user([{ type: 'text', text: 'b' }, { type: 'text', text: '' }]), { role: 'assistant', content: 'c' }, { role: 'assistant', content: '' }, user('d')],
      {
        contents: [
          { role: 'user', parts: [{ text: 'a' }, { text: 'b' }] },
          { role: 'model', parts: [{ text: 'c' }] },
          { role: 'user', parts: [{ text: 'd' }] },
        ],
      },
    ],
    [
      'images: data URL → inlineData, http(s)/gs URL → fileData with a guessed MIME type',
      [
        user([
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.JPG?size=large', detail: 'high' } },
          { type: 'image_url', image_url: { url: 'https://example.com/render' } },
          { type: 'image_url', image_url: { url: 'gs://bucket/doc.pdf' } },
        ]),
      ],
      {
        contents: [
          {
            role: 'user',
            parts: [
              { text: 'look' },
              { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
              { fileData: { fileUri: 'https://example.com/cat.JPG?size=large', mimeType: 'image/jpeg' } },
              { fileData: { fileUri: 'https://example.com/render' } },
              { fileData: { fileUri: 'gs://bucket/doc.pdf', mimeType: 'application/pdf' } },
            ],
          },
        ],
      },
    ],
    [
      'audio and files',
      [
        user([
          { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
          { type: 'file', file: { file_data: 'JVBERi0=', filename: 'b.pdf' } },
          { type: 'image_url', image_url: { url: 'data:,hello%20world' } },
          { type: 'image_url', image_url: { url: 'data:text/plain,100%' } },
        ]),
      ],
      {
        contents: [
          {
            role: 'user',
            parts: [
              { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
              { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
              { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
              { inlineData: { mimeType: 'application/octet-stream', data: Buffer.from('hello world').toString('base64') } },
              { inlineData: { mimeType: 'text/plain', data: Buffer.from('100%').toString('base64') } },
            ],
          },
        ],
      },
    ],
    [
      'tool calls → functionCall parts; tool results → functionResponse parts by name, in one user turn',
      [
        user('weather in Paris and Rome?'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_b', content: 'noon' },
        { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'call_a', content: [{ type: 'text', text: '[1,2]' }] },
      ],
      {
        contents: [
          { role: 'user', parts: [{ text: 'weather in Paris and Rome?' }] },
          {
            role: 'model',
            parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_time', args: {} } }],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { name: 'get_time', response: { content: 'noon' } } },
              { functionResponse: { name: 'get_weather', response: { temp: 21 } } },
              { functionResponse: { name: 'get_weather', response: { content: '[1,2]' } } },
            ],
          },
        ],
      },
    ],
    [
      'arguments that are not a JSON object are kept as a string; legacy function messages',
      [
        user('x'),
        { role: 'assistant', content: 'calling', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: 'not json' } }] },
        { role: 'function', name: 'f', content: 'ok' },
      ],
      {
        contents: [
          { role: 'user', parts: [{ text: 'x' }] },
          { role: 'model', parts: [{ text: 'calling' }, { functionCall: { name: 'f', args: { arguments: 'not json' } } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'f', response: { content: 'ok' } } }] },
        ],
      },
    ],
  ])('%s', (_name, messages, want) => {
    expect(body(chat(messages))).toEqual(want);
  });

  it('signs replayed function calls for Gemini 3 (the documented sentinel, or the signature the client kept)', () => {
    const call = (id: string, extra: object = {}) => ({ id, type: 'function' as const, function: { name: 'f', arguments: '{}' }, ...extra });
    const messages: ChatMessage[] = [
      user('go'),
      { role: 'assistant', content: null, tool_calls: [call('a'), call('b')] },
      { role: 'tool', tool_call_id: 'a', content: '1' },
      { role: 'tool', tool_call_id: 'b', content: '2' },
      { role: 'assistant', content: null, tool_calls: [call('c', { extra_content: { google: { thought_signature: 'c2ln' } } })] },
      { role: 'tool', tool_call_id: 'c', content: '3' },
    ];
    const signatures = (model: string) =>
      body(chat(messages), model).contents.filter((c) => c.role === 'model').map((c) => c.parts.map((p) => p.thoughtSignature));
    expect(signatures('gemini-3-pro-preview')).toEqual([[SKIP_SIGNATURE, undefined], ['c2ln']]);
    expect(signatures('gemini-2.5-flash')).toEqual([[undefined, undefined], ['c2ln']]);
  });

  it.each<[string, ChatMessage[], string, string]>([
    ['a tool result answering no call', [user('x'), { role: 'tool', tool_call_id: 'nope', content: '1' }], 'invalid_request', 'messages[1].tool_call_id'],
    ['an ftp image', [user([{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }])], 'invalid_request', 'messages[0].content[0].image_url.url'],
    ['an image without a URL', [user([{ type: 'image_url', image_url: {} }])], 'invalid_request', 'messages[0].content[0].image_url.url'],
    ['an uploaded-file id', [user([{ type: 'file', file: { file_id: 'file-1' } }])], 'unsupported_parameter', 'messages[0].content[0].file'],
    ['an unknown part type', [user([{ type: 'video_url', video_url: 'x' }])], 'unsupported_parameter', 'messages[0].content[0]'],
    ['an image in a system message', [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'data:,x' } }] }], 'unsupported_parameter', 'messages[0].content[0]'],
    ['a function message without a name', [user('x'), { role: 'function', content: '1' }], 'invalid_request', 'messages[1].name'],
  ])('fails for %s', (_name, messages, kind, param) => {
    expect(failure(chat(messages))).toMatchObject({ kind, param });
  });
});

describe('toGeminiRequest: tools', () => {
  const tools = [weatherTool, { type: 'function', function: { name: 'get_time' } }];

  it('declares function tools with their JSON Schema untouched', () => {
    expect(body(chat([user('x')], { tools })).tools).toEqual([
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Weather for a city', parametersJsonSchema: weatherTool.function.parameters },
          { name: 'get_time', description: '' },
        ],
      },
    ]);
  });

  it.each<[string, unknown, GenerateContentRequest['toolConfig'], string[]]>([
    ['no tool_choice', undefined, undefined, ['get_weather', 'get_time']],
    ['auto', 'auto', { functionCallingConfig: { mode: 'AUTO' } }, ['get_weather', 'get_time']],
    ['none', 'none', { functionCallingConfig: { mode: 'NONE' } }, ['get_weather', 'get_time']],
    ['required', 'required', { functionCallingConfig: { mode: 'ANY' } }, ['get_weather', 'get_time']],
    [
      'a named function',
      { type: 'function', function: { name: 'get_time' } },
      { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_time'] } },
      ['get_weather', 'get_time'],
    ],
    [
      'allowed_tools (auto): only those declared',
      { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'get_time' } }] } },
      { functionCallingConfig: { mode: 'AUTO' } },
      ['get_time'],
    ],
  ])('tool_choice %s', (_name, toolChoice, toolConfig, declared) => {
    const out = body(chat([user('x')], { tools, tool_choice: toolChoice }));
    expect(out.toolConfig).toEqual(toolConfig);
    expect(out.tools?.[0]?.functionDeclarations.map((d) => d.name)).toEqual(declared);
  });

  it('sends neither tools nor toolConfig without tools', () => {
    const out = body(chat([user('x')], { tools: [], tool_choice: 'auto' }));
    expect(out.tools).toBeUndefined();
    expect(out.toolConfig).toBeUndefined();
  });

  it.each<[string, Partial<ChatRequest>, string, string]>([
    ['a non-function tool', { tools: [{ type: 'web_search' }] }, 'unsupported_parameter', 'tools[0].type'],
    ['a tool without a name', { tools: [{ type: 'function', function: {} }] }, 'invalid_request', 'tools[0].function.name'],
    ['an unknown tool_choice', { tools: [weatherTool], tool_choice: 'sometimes' }, 'unsupported_parameter', 'tool_choice'],
  ])('fails for %s', (_name, extra, kind, param) => {
    expect(failure(chat([user('x')], extra))).toMatchObject({ kind, param });
  });
});

describe('toGeminiRequest: parameters', () => {
  it('maps sampling and length parameters into generationConfig', () => {
    const req = chat([user('x')], {
      stop: ['END', 'STOP'],
      max_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      n: 2,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
    });
    expect(body(req).generationConfig).toEqual({
      stopSequences: ['END', 'STOP'],
      maxOutputTokens: 100,
      temperature: 0.2,
      topP: 0.9,
      topK: 40,
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
    });
  });

  it('prefers max_completion_tokens, takes a single stop string, and omits an empty generationConfig', () => {
    expect(body(chat([user('x')], { max_tokens: 10, max_completion_tokens: 20, stop: 'X' })).generationConfig).toEqual({
      maxOutputTokens: 20,
      stopSequences: ['X'],
    });
    expect(body(chat([user('x')], { temperature: null, stop: null, stream: true })).generationConfig).toBeUndefined();
  });

  it.each<[string, unknown, object | undefined]>([
    ['text', { type: 'text' }, undefined],
    ['json_object', { type: 'json_object' }, { responseMimeType: 'application/json' }],
    [
      'json_schema',
      { type: 'json_schema', json_schema: { name: 'x', strict: true, schema: { type: 'object', properties: { a: { type: ['string', 'null'] } }, additionalProperties: false } } },
      {
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'object', properties: { a: { type: ['string', 'null'] } }, additionalProperties: false },
      },
    ],
  ])('response_format %s', (_name, format, want) => {
    expect(body(chat([user('x')], { response_format: format })).generationConfig).toEqual(want);
  });

  it.each([
    ['none', 0],
    ['minimal', 512],
    ['low', 1024],
    ['medium', 8192],
    ['high', 24576],
    ['xhigh', 24576],
  ])('reasoning_effort %s → thinkingBudget %d', (effort, budget) => {
    expect(body(chat([user('x')], { reasoning_effort: effort })).generationConfig).toEqual({ thinkingConfig: { thinkingBudget: budget } });
  });

  it('asks for thoughts only when told to, and never with thinking off', () => {
    expect(body(chat([user('x')]), MODEL, { includeThoughts: true }).generationConfig).toEqual({ thinkingConfig: { includeThoughts: true } });
    expect(body(chat([user('x')], { reasoning_effort: 'low' }), MODEL, { includeThoughts: true }).generationConfig).toEqual({
      thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
    });
    expect(body(chat([user('x')], { reasoning_effort: 'none' }), MODEL, { includeThoughts: true }).generationConfig).toEqual({
      thinkingConfig: { thinkingBudget: 0 },
    });
  });

  it('lists the harmless parameters it dropped, and nothing it honoured', () => {
    const req = chat([user('x')], {
      stream: true,
      stream_options: { include_usage: true },
      logprobs: true,
      top_logprobs: 2,
      logit_bias: { '1': 2 },
      user: 'u-1',
      service_tier: 'auto',
      store: false,
      parallel_tool_calls: false,
      metadata: { a: 'b' },
      fallback_models: ['x'],
      modalities: ['text'],
      seed: null,
    });
    expect(translate(req).droppedParams).toEqual([
      'logprobs',
      'top_logprobs',
      'logit_bias',
      'user',
      'service_tier',
      'store',
      'parallel_tool_calls',
      'metadata',
    ]);
    expect(translate(chat([user('x')])).droppedParams).toEqual([]);
  });

  it.each<[string, Partial<ChatRequest>, string, string]>([
    ['audio output', { audio: { voice: 'alloy', format: 'wav' }, modalities: ['text', 'audio'] }, 'unsupported_parameter', 'audio'],
    ['legacy functions', { functions: [{ name: 'f' }] }, 'unsupported_parameter', 'functions'],
    ['an unknown parameter', { repetition_penalty: 1.1 }, 'unsupported_parameter', 'repetition_penalty'],
    ['an unknown response_format', { response_format: { type: 'grammar' } }, 'unsupported_parameter', 'response_format.type'],
    ['an unknown reasoning_effort', { reasoning_effort: 'ultra' }, 'unsupported_parameter', 'reasoning_effort'],
    ['a temperature that is not a number', { temperature: 'hot' as unknown as number }, 'invalid_request', 'temperature'],
  ])('fails for %s', (_name, extra, kind, param) => {
    expect(failure(chat([user('x')], extra))).toMatchObject({ kind, param });
  });
});
