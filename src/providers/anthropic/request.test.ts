import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatRequest } from '../../canonical/chat.js';
import { isUpstreamFailure } from '../../canonical/failure.js';
import { requestProblems } from './__fixtures__/conformance.js';
import { DEFAULT_MAX_TOKENS, toAnthropicRequest, type AnthropicRequestOptions } from './request.js';
import type { MessageCreateParams } from './wire.js';

const MODEL = 'claude-sonnet-4-5';
const OPTIONS: AnthropicRequestOptions = { stream: false, maxOutputTokens: 64_000 };
const user = (content: ChatMessage['content']): ChatMessage => ({ role: 'user', content });
const req = (over: Partial<ChatRequest>): ChatRequest => ({ model: 'route', messages: [user('Hi')], ...over });
const weather = { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** Translates and checks the body against the Anthropic schema (and the API's own rules) every time. */
function translate(request: ChatRequest, options: AnthropicRequestOptions = OPTIONS) {
  const out = toAnthropicRequest(request, MODEL, options);
  expect(requestProblems(out.body)).toEqual([]);
  return out;
}
const body = (request: ChatRequest, options?: AnthropicRequestOptions): MessageCreateParams => translate(request, options).body;

function failure(request: ChatRequest): { kind: string; param?: string | null | undefined } {
  try {
    toAnthropicRequest(request, MODEL, OPTIONS);
  } catch (error) {
    if (isUpstreamFailure(error)) return { kind: error.kind, param: error.details.param };
    throw error;
  }
  throw new Error('expected a failure');
}

describe('toAnthropicRequest: one mapping per row', () => {
  it.each<[string, Partial<ChatRequest>, Partial<MessageCreateParams>]>([
    ['minimal', {}, { model: MODEL, max_tokens: 64_000, messages: [{ role: 'user', content: 'Hi' }] }],
    ['system → top-level system', { messages: [{ role: 'system', content: 'Be brief.' }, user('Hi')] }, { system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] }],
    [
      'system + developer → system text blocks',
      { messages: [{ role: 'system', content: 'A' }, { role: 'developer', content: [{ type: 'text', text: 'B' }] }, user('Hi')] },
      { system: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }] },
    ],
    ['max_tokens', { max_tokens: 100 }, { max_tokens: 100 }],
    ['max_completion_tokens wins', { max_tokens: 100, max_completion_tokens: 200 }, { max_tokens: 200 }],
    ['max_tokens above the output limit is lowered to it', { max_tokens: 1_000_000 }, { max_tokens: 64_000 }],
    ['stop string → stop_sequences', { stop: 'END' }, { stop_sequences: ['END'] }],
    ['stop array → stop_sequences', { stop: ['a', 'b'] }, { stop_sequences: ['a', 'b'] }],
    ['temperature in range', { temperature: 0.3 }, { temperature: 0.3 }],
    ['temperature above 1 is clamped', { temperature: 1.7 }, { temperature: 1 }],
    ['top_p', { top_p: 0.9 }, { top_p: 0.9 }],
    ['user → metadata.user_id', { user: 'u-123' }, { metadata: { user_id: 'u-123' } }],
    ['tools', { tools: [weather] }, { tools: [{ name: 'get_weather', description: 'Weather now', input_schema: weather.function.parameters as never }] }],
    [
      'a tool without parameters gets an empty object schema',
      { tools: [{ type: 'function', function: { name: 'ping' } }] },
      { tools: [{ name: 'ping', input_schema: { type: 'object', properties: {} } }] },
    ],
    ['tool_choice auto', { tools: [weather], tool_choice: 'auto' }, { tool_choice: { type: 'auto' } }],
    ['tool_choice required → any', { tools: [weather], tool_choice: 'required' }, { tool_choice: { type: 'any' } }],
    ['tool_choice none', { tools: [weather], tool_choice: 'none' }, { tool_choice: { type: 'none' } }],
    ['tool_choice function → tool', { tools: [weather], tool_choice: { type: 'function', function: { name: 'get_weather' } } }, { tool_choice: { type: 'tool', name: 'get_weather' } }],
    ['parallel_tool_calls false', { tools: [weather], parallel_tool_calls: false }, { tool_choice: { type: 'auto', disable_parallel_tool_use: true } }],
    ['parallel_tool_calls false + required', { tools: [weather], tool_choice: 'required', parallel_tool_calls: false }, { tool_choice: { type: 'any', disable_parallel_tool_use: true } }],
    ['reasoning_effort low', { reasoning_effort: 'low' }, { thinking: { type: 'enabled', budget_tokens: 2048 } }],
    ['reasoning_effort high', { reasoning_effort: 'high' }, { thinking: { type: 'enabled', budget_tokens: 16_384 } }],
    ['Anthropic-style thinking', { thinking: { type: 'enabled', budget_tokens: 5000 } }, { thinking: { type: 'enabled', budget_tokens: 5000 } }],
  ])('%s', (_name, request, expected) => {
    expect(body(req(request))).toMatchObject(expected);
  });

  it('streams when asked', () => {
    expect(body(req({}), { stream: true }).stream).toBe(true);
    expect(body(req({ stream: true }), { stream: false }).stream).toBeUndefined();
  });

  it('tool_choice without tools is left out', () => {
    expect(body(req({ tool_choice: 'required', parallel_tool_calls: false }))).not.toHaveProperty('tool_choice');
  });
});

describe('max_tokens when the client sets none', () => {
  it("asks for the target's whole output limit", () => {
    expect(body(req({}), { stream: false, maxOutputTokens: 32_000 }).max_tokens).toBe(32_000);
  });

  it('asks for a generous default when the limit is unknown, never a small one', () => {
    expect(body(req({}), { stream: false }).max_tokens).toBe(DEFAULT_MAX_TOKENS);
    expect(DEFAULT_MAX_TOKENS).toBeGreaterThanOrEqual(8192);
  });
});

describe('messages', () => {
  it('multi-turn with consecutive same-role messages merged', () => {
    const b = body(
      req({
        messages: [user('a'), user('b'), { role: 'assistant', content: 'c' }, { role: 'assistant', content: 'd' }, user('e')],
      }),
    );
    expect(b.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'c' }, { type: 'text', text: 'd' }] },
      { role: 'user', content: 'e' },
    ]);
  });

  it('images: data: URLs → base64 source, http(s) URLs → url source', () => {
    const b = body(
      req({
        messages: [
          user([
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ]),
        ],
      }),
    );
    expect(b.messages[0]?.content).toEqual([
      { type: 'text', text: 'What is this?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('a tool-call round trip: tool_calls → tool_use, tool messages → one user turn of tool_results', () => {
    const b = body(
      req({
        tools: [weather],
        messages: [
          user('Weather in Paris and Rome?'),
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: 'not json' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
          { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '21°C' }] },
          user('Thanks, and tomorrow?'),
        ],
      }),
    );
    expect(b.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '21°C' }] },
          { type: 'text', text: 'Thanks, and tomorrow?' },
        ],
      },
    ]);
  });

  it('a final assistant message is a prefill, with trailing whitespace trimmed', () => {
    const b = body(req({ messages: [user('Count'), { role: 'assistant', content: 'One, two, ' }] }));
    expect(b.messages.at(-1)).toEqual({ role: 'assistant', content: 'One, two,' });
  });

  it('empty messages are left out', () => {
    expect(body(req({ messages: [user('Hi'), { role: 'assistant', content: '' }, user('there')] })).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'there' }] },
    ]);
  });

  it('keeps cache_control markers on parts', () => {
    const b = body(req({ messages: [{ role: 'system', content: [{ type: 'text', text: 'Long', cache_control: { type: 'ephemeral' } }] }, user('Hi')] }));
    expect(b.system).toEqual([{ type: 'text', text: 'Long', cache_control: { type: 'ephemeral' } }]);
  });

  it('thinking blocks of an earlier turn are sent back when thinking is on, and only then', () => {
    const assistant: ChatMessage = {
      role: 'assistant',
      content: null,
      reasoning_content: 'Weather needs a tool.',
      thinking_blocks: [{ type: 'thinking', thinking: 'Weather needs a tool.', signature: 'sig' }],
      tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    };
    const messages = [user('Weather?'), assistant, { role: 'tool' as const, tool_call_id: 'toolu_1', content: '18°C' }];
    const on = body(req({ tools: [weather], messages, reasoning_effort: 'low' }));
    expect(on.messages[1]?.content).toEqual([
      { type: 'thinking', thinking: 'Weather needs a tool.', signature: 'sig' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ]);
    const off = body(req({ tools: [weather], messages }));
    expect(off.messages[1]?.content).toEqual([{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }]);
  });
});

describe('thinking', () => {
  it('drops temperature ≠ 1, top_p < 0.95 and top_k when thinking is on (the API rejects them)', () => {
    const out = translate(req({ reasoning_effort: 'medium', temperature: 0.2, top_p: 0.5, top_k: 5 }));
    expect(out.body).not.toHaveProperty('temperature');
    expect(out.body).not.toHaveProperty('top_p');
    expect(out.body).not.toHaveProperty('top_k');
    expect(out.droppedParams).toEqual(expect.arrayContaining(['temperature', 'top_p', 'top_k']));
  });

  it('caps the budget inside max_tokens, leaving room for the answer', () => {
    expect(body(req({ reasoning_effort: 'high', max_tokens: 5000 })).thinking).toEqual({ type: 'enabled', budget_tokens: 3976 });
  });

  it('is dropped (and reported) when max_tokens leaves no room, or a tool is forced', () => {
    const small = translate(req({ reasoning_effort: 'high', max_tokens: 1500 }));
    expect(small.body).not.toHaveProperty('thinking');
    expect(small.droppedParams).toContain('reasoning_effort');
    const forced = translate(req({ reasoning_effort: 'low', tools: [weather], tool_choice: 'required' }));
    expect(forced.body).not.toHaveProperty('thinking');
    expect(forced.droppedParams).toContain('reasoning_effort');
  });

  it("reasoning_effort 'none' means no thinking; an unknown effort is dropped", () => {
    expect(translate(req({ reasoning_effort: 'none' })).body).not.toHaveProperty('thinking');
    expect(translate(req({ reasoning_effort: 'extreme' })).droppedParams).toEqual(['reasoning_effort']);
  });
});

describe('emulated JSON output (response_format)', () => {
  const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };

  it('json_schema forces one answer tool whose input_schema is the schema', () => {
    const out = translate(req({ response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } } }));
    expect(out.jsonTool).toBe('json_response');
    expect(out.body.tools).toEqual([{ name: 'json_response', description: expect.any(String), input_schema: schema }]);
    expect(out.body.tool_choice).toEqual({ type: 'tool', name: 'json_response', disable_parallel_tool_use: true });
  });

  it('json_object forces an answer tool with an open object schema', () => {
    const out = translate(req({ response_format: { type: 'json_object' } }));
    expect(out.body.tools?.[0]?.input_schema).toEqual({ type: 'object' });
  });

  it('with client tools the model must call one of them or the answer tool', () => {
    const out = translate(req({ tools: [weather], response_format: { type: 'json_schema', json_schema: { name: 'a', schema } } }));
    expect(out.body.tools?.map((t) => t.name)).toEqual(['get_weather', 'json_response']);
    expect(out.body.tool_choice).toEqual({ type: 'any' });
  });

  it('does not collide with a client tool of the same name', () => {
    const clash = { type: 'function', function: { name: 'json_response', parameters: { type: 'object' } } };
    expect(translate(req({ tools: [clash], response_format: { type: 'json_object' } })).jsonTool).toBe('json_response_2');
  });

  it('turns thinking off (a forced tool excludes it) and says so', () => {
    const out = translate(req({ reasoning_effort: 'low', response_format: { type: 'json_object' } }));
    expect(out.body).not.toHaveProperty('thinking');
    expect(out.droppedParams).toEqual(['reasoning_effort']);
  });

  it("response_format text changes nothing; a schema that is not an object can't be emulated", () => {
    expect(translate(req({ response_format: { type: 'text' } })).body).not.toHaveProperty('tools');
    expect(failure(req({ response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'array' } } } }))).toEqual({
      kind: 'unsupported_parameter',
      param: 'response_format.json_schema.schema',
    });
  });
});

describe('parameters without an Anthropic equivalent', () => {
  it('harmless ones are dropped and listed', () => {
    const out = translate(
      req({
        seed: 7,
        logprobs: true,
        top_logprobs: 2,
        frequency_penalty: 0.1,
        presence_penalty: 0.1,
        logit_bias: { '50256': -100 },
        service_tier: 'auto',
        store: true,
        metadata: { team: 'a' },
        stream_options: { include_usage: true },
        fallback_models: ['other'],
        n: 1,
        seed_extra_null: null,
      }),
    );
    expect(out.droppedParams.sort()).toEqual(['frequency_penalty', 'logit_bias', 'logprobs', 'metadata', 'presence_penalty', 'seed', 'service_tier', 'store', 'top_logprobs']);
    expect(out.body).not.toHaveProperty('metadata');
  });

  it.each<[string, Partial<ChatRequest>, string]>([
    ['n > 1', { n: 3 }, 'n'],
    ['audio output', { modalities: ['text', 'audio'], audio: { voice: 'x' } }, 'modalities'],
    ['legacy functions', { functions: [{ name: 'f' }] }, 'functions'],
    ['an audio content part', { messages: [user([{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }])] }, 'messages[0].content[0]'],
    ['an svg image', { messages: [user([{ type: 'image_url', image_url: { url: 'data:image/svg+xml;base64,PHN2Zz4=' } }])] }, 'messages[0].content[0]'],
    ['a non-function tool', { tools: [{ type: 'web_search' }] }, 'tools[0]'],
  ])('%s → unsupported_parameter, before any I/O', (_name, request, param) => {
    expect(failure(req(request))).toEqual({ kind: 'unsupported_parameter', param });
  });
});
