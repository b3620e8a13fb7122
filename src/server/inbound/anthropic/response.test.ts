import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import { describe, expect, it } from 'vitest';
import type { ChatChunk, ChatResponse } from '../../../canonical/chat.js';
import { responseToChunks } from '../../../canonical/chunks.js';
import type { Served } from '../../../engine/engine.js';
import { toAnthropicMessage } from './response.js';
import { AnthropicStreamEncoder } from './stream-encoder.js';

/**
 * What /v1/messages writes must pass Anthropic's schemas: the lenient one as is, and the current
 * (strict) one with one named difference — text blocks without citations omit `citations`, as
 * the live API does (recordings) and as @ai-sdk/anthropic requires (it rejects `null`); the
 * strict schema, derived from SDK types, marks it required.
 */
const SCHEMAS = ['anthropic-messages.schema.json', 'anthropic-messages.lenient.schema.json'].map((file) => {
  const schema = JSON.parse(readFileSync(new URL(`../../../../../shared/conformance/anthropic/${file}`, import.meta.url), 'utf8')) as { $id: string };
  const ajv = new AjvModule.default({ allErrors: true, strict: false });
  ajv.addSchema(schema);
  const get = (name: string) => {
    const v = ajv.getSchema(`${schema.$id}#/definitions/${name}`);
    if (!v) throw new Error(`${file}: no ${name}`);
    return v;
  };
  const strict = !file.includes('lenient');
  const patch = (value: unknown): unknown => (strict ? withCitations(value) : value);
  const check = (v: ReturnType<typeof get>) => Object.assign((value: unknown) => v(patch(value)), { get errors() { return v.errors; } });
  return { file, message: check(get('Root_Message')), event: check(get('Root_StreamData')) };
});

/** The strict schema's one difference from the wire: `citations: null` on text blocks that have none. */
function withCitations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withCitations);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = withCitations(v);
  if (out.type === 'text' && typeof out.text === 'string' && !('citations' in out)) out.citations = null;
  return out;
}

const response: ChatResponse = {
  id: 'chatcmpl-abc',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Let me check.',
        refusal: null,
        reasoning_content: 'The user wants weather.',
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42, prompt_tokens_details: { cached_tokens: 10 }, completion_tokens_details: { reasoning_tokens: 4 } },
};

const served: Served = { route: 'r', servedBy: 'p/m', degraded: false, attempts: [] };

function sseEvents(text: string): unknown[] {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').find((l) => l.startsWith('data: ')))
    .filter((l): l is string => l !== undefined)
    .map((l) => JSON.parse(l.slice(6)) as unknown);
}

describe.each(SCHEMAS)('the Anthropic inbound output against $file', ({ message, event }) => {
  it('a message with thinking, text and a tool call', () => {
    const msg = toAnthropicMessage(response, true);
    expect(message(msg) ? [] : message.errors).toEqual([]);
    expect(msg).toMatchObject({ stop_reason: 'tool_use', usage: { input_tokens: 20, cache_read_input_tokens: 10, output_tokens: 12, output_tokens_details: { thinking_tokens: 4 } } });
  });

  it('every stream event, in order', () => {
    const encoder = new AnthropicStreamEncoder({ includeUsage: true, includeReasoning: true });
    let text = '';
    for (const chunk of responseToChunks(response, true) as ChatChunk[]) text += encoder.chunk(chunk);
    text += encoder.keepalive();
    text += encoder.end(served);
    const events = sseEvents(text) as { type: string }[];
    for (const e of events) expect(event(e) ? [] : event.errors, e.type).toEqual([]);
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'ping',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });
});
