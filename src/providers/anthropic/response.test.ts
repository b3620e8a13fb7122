import { describe, expect, it } from 'vitest';
import { isUpstreamFailure } from '../../canonical/failure.js';
import { openaiProblems, read, recordedBodies } from './__fixtures__/conformance.js';
import { toFinishReason, toStopReason } from './finish-reason.js';
import { parseAnthropicResponse, toChatResponse, type ResponseContext } from './response.js';
import type { Message, StopReason } from './wire.js';

const CONTEXT: ResponseContext = { created: 1_700_000_000 };
const body = (name: string): string => read(`vercel-ai/anthropic/${name}`);

describe('parseAnthropicResponse on the recorded Message bodies', () => {
  it.each(recordedBodies())('$name is a valid OpenAI chat completion', ({ text }) => {
    const response = parseAnthropicResponse(text, CONTEXT);
    expect(openaiProblems('CreateChatCompletionResponse', response)).toEqual([]);
    const raw = JSON.parse(text) as { id: string; model: string; usage: { input_tokens: number; output_tokens: number } };
    expect(response).toMatchObject({ id: raw.id, model: raw.model, created: CONTEXT.created, object: 'chat.completion' });
    expect(response.usage).toMatchObject({
      prompt_tokens: raw.usage.input_tokens,
      completion_tokens: raw.usage.output_tokens,
      total_tokens: raw.usage.input_tokens + raw.usage.output_tokens,
      prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 },
    });
  });

  it('text', () => {
    const choice = parseAnthropicResponse(body('anthropic-text.json'), CONTEXT).choices[0];
    expect(choice?.message.content).toBe("Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?");
    expect(choice?.finish_reason).toBe('stop');
  });

  it('text and a tool call without arguments', () => {
    const choice = parseAnthropicResponse(body('anthropic-tool-no-args.json'), CONTEXT).choices[0];
    expect(choice?.message.content).toMatch(/^<thinking>/);
    expect(choice?.message.tool_calls).toEqual([{ id: 'toolu_01LRmxn9vGM1d2DZSDBowdZ1', type: 'function', function: { name: 'updateIssueList', arguments: '{}' } }]);
    expect(choice?.finish_reason).toBe('tool_calls');
  });

  it('a tool call alone has null content and the input as JSON arguments', () => {
    const choice = parseAnthropicResponse(body('anthropic-json-tool.1.json'), CONTEXT).choices[0];
    expect(choice?.message.content).toBeNull();
    expect(JSON.parse(choice?.message.tool_calls?.[0]?.function.arguments ?? '')).toHaveProperty('elements');
  });

  it('emulated JSON output: the answer tool input is the text, finish stop', () => {
    const choice = parseAnthropicResponse(body('anthropic-json-tool.1.json'), { ...CONTEXT, jsonTool: 'json' }).choices[0];
    expect(choice?.message.tool_calls).toBeUndefined();
    expect(JSON.parse(choice?.message.content ?? '').elements).toHaveLength(4);
    expect(choice?.finish_reason).toBe('stop');
  });

  it('a refusal is content_filter with the stated reason', () => {
    const choice = parseAnthropicResponse(body('anthropic-refusal.json'), CONTEXT).choices[0];
    expect(choice?.finish_reason).toBe('content_filter');
    expect(choice?.message.refusal).toMatch(/Usage Policy/);
    expect(choice?.message.content).toBe('');
  });

  it('server tool blocks are skipped; the text blocks are joined', () => {
    const raw = JSON.parse(body('anthropic-web-search-tool.1.json')) as { content: { type: string; text?: string }[] };
    const text = raw.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
    const choice = parseAnthropicResponse(body('anthropic-web-search-tool.1.json'), CONTEXT).choices[0];
    expect(choice?.message.content).toBe(text);
    expect(choice?.message.tool_calls).toBeUndefined();
  });

  it('not JSON, or not a message, is malformed', () => {
    for (const text of ['<html>', '{"choices":[]}', '{"type":"message"}']) {
      expect(() => parseAnthropicResponse(text, CONTEXT)).toThrow(expect.objectContaining({ kind: 'malformed_response' }));
    }
    try {
      parseAnthropicResponse('nope', CONTEXT);
    } catch (error) {
      expect(isUpstreamFailure(error) && error.details.code).toBe('invalid_json');
    }
  });
});

describe('toChatResponse', () => {
  const message = (over: Partial<Message>): Message => ({
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
    ...over,
  });

  it('keeps thinking as reasoning_content and the signed blocks in thinking_blocks', () => {
    const response = toChatResponse(
      message({
        content: [
          { type: 'thinking', thinking: 'Let me see.', signature: 'sig1' },
          { type: 'redacted_thinking', data: 'opaque' },
          { type: 'text', text: '42' },
        ],
      }),
      CONTEXT,
    );
    const m = response.choices[0]?.message;
    expect(m?.reasoning_content).toBe('Let me see.');
    expect(m?.thinking_blocks).toEqual([
      { type: 'thinking', thinking: 'Let me see.', signature: 'sig1' },
      { type: 'redacted_thinking', data: 'opaque' },
    ]);
    expect(m?.content).toBe('42');
  });

  it('counts cache reads and writes into prompt_tokens and reports them', () => {
    const response = toChatResponse(
      message({ usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 } }),
      CONTEXT,
    );
    expect(response.usage).toEqual({
      prompt_tokens: 130,
      completion_tokens: 5,
      total_tokens: 135,
      prompt_tokens_details: { cached_tokens: 100, cache_creation_tokens: 20 },
    });
  });

  it('answer tool next to a client tool call: both kept, finish tool_calls', () => {
    const response = toChatResponse(
      message({
        stop_reason: 'tool_use',
        content: [
          { type: 'tool_use', id: 't1', name: 'lookup', input: { q: 'x' } },
          { type: 'tool_use', id: 't2', name: 'json_response', input: { a: 1 } },
        ],
      }),
      { ...CONTEXT, jsonTool: 'json_response' },
    );
    expect(response.choices[0]?.message.content).toBe('{"a":1}');
    expect(response.choices[0]?.message.tool_calls?.map((c) => c.id)).toEqual(['t1']);
    expect(response.choices[0]?.finish_reason).toBe('tool_calls');
  });
});

describe('finish reason map', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
  ] as [StopReason, string][])('%s → %s', (stop, finish) => {
    expect(toFinishReason(stop)).toBe(finish);
  });

  it('maps back', () => {
    expect(toStopReason('stop')).toBe('end_turn');
    expect(toStopReason('length')).toBe('max_tokens');
    expect(toStopReason('tool_calls')).toBe('tool_use');
    expect(toStopReason('content_filter')).toBe('refusal');
  });

  it('an unknown stop reason on the wire reads as end_turn', () => {
    const text = JSON.stringify({ id: 'm', type: 'message', role: 'assistant', model: 'x', content: [{ type: 'text', text: 'hi' }], stop_reason: 'brand_new', usage: { input_tokens: 1, output_tokens: 1 } });
    expect(parseAnthropicResponse(text, CONTEXT).choices[0]?.finish_reason).toBe('stop');
  });
});
