import { describe, expect, it } from 'vitest';
import type { ChatRequest, ChatResponse } from '../canonical/chat.js';
import { continuablePartial, continuationAllowed, continuationRequest, DEFAULT_CONTINUATION } from './continuation.js';

const base: ChatRequest = { model: 'chat', messages: [{ role: 'user', content: 'Why are there tides?' }], stream: true };

function answer(message: ChatResponse['choices'][number]['message']): ChatResponse {
  return { id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message, finish_reason: null }] };
}

describe('continuationAllowed', () => {
  it('is on for plain text, off for tools, JSON and several choices unless the route says so', () => {
    expect(continuationAllowed(base, DEFAULT_CONTINUATION)).toBe(true);
    expect(continuationAllowed({ ...base, tools: [{ type: 'function' }] }, DEFAULT_CONTINUATION)).toBe(false);
    expect(continuationAllowed({ ...base, tools: [{ type: 'function' }] }, { ...DEFAULT_CONTINUATION, withTools: true })).toBe(true);
    expect(continuationAllowed({ ...base, response_format: { type: 'json_object' } }, DEFAULT_CONTINUATION)).toBe(false);
    expect(continuationAllowed({ ...base, response_format: { type: 'json_schema' } }, { ...DEFAULT_CONTINUATION, withJson: true })).toBe(true);
    expect(continuationAllowed({ ...base, response_format: { type: 'text' } }, DEFAULT_CONTINUATION)).toBe(true);
    expect(continuationAllowed({ ...base, n: 2 }, DEFAULT_CONTINUATION)).toBe(false);
    expect(continuationAllowed(base, { ...DEFAULT_CONTINUATION, enabled: false })).toBe(false);
  });
});

describe('continuablePartial', () => {
  it('is the text so far, and nothing when a tool call, a refusal or no text reached the client', () => {
    expect(continuablePartial(answer({ role: 'assistant', content: 'Tides rise' }))).toBe('Tides rise');
    expect(continuablePartial(answer({ role: 'assistant', content: '' }))).toBeUndefined();
    expect(continuablePartial(answer({ role: 'assistant', content: 'x', refusal: 'no' }))).toBeUndefined();
    expect(continuablePartial(answer({ role: 'assistant', content: 'x', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }] }))).toBeUndefined();
  });
});

describe('continuationRequest', () => {
  it('hands the partial answer to a prefill target as a trailing assistant message, trailing whitespace trimmed', () => {
    const c = continuationRequest(base, 'Tides rise and ', true, DEFAULT_CONTINUATION);
    expect(c.mode).toBe('prefill');
    expect(c.trimmed).toBe(' ');
    expect(c.request.messages.at(-1)).toEqual({ role: 'assistant', content: 'Tides rise and' });
    expect(c.request.messages).toHaveLength(2);
    expect(c.request.stream).toBe(true);
  });

  it('gives any other target the partial answer and an explicit continue turn', () => {
    const c = continuationRequest(base, 'Tides rise and ', false, DEFAULT_CONTINUATION);
    expect(c.mode).toBe('continue_turn');
    expect(c.request.messages.slice(-2)).toEqual([
      { role: 'assistant', content: 'Tides rise and ' },
      { role: 'user', content: DEFAULT_CONTINUATION.instruction },
    ]);
    expect(base.messages).toHaveLength(1); // the original request is untouched
  });

  it('merges a client prefill with the partial answer', () => {
    const prefilled: ChatRequest = { ...base, messages: [...base.messages, { role: 'assistant', content: 'Because' }] };
    const c = continuationRequest(prefilled, ' the Moon', true, DEFAULT_CONTINUATION);
    expect(c.request.messages).toEqual([base.messages[0], { role: 'assistant', content: 'Because the Moon' }]);
    expect(c.said).toBe('Because the Moon');
  });

  it('lowers max_tokens by what was already written, never below 1', () => {
    expect(continuationRequest({ ...base, max_tokens: 100 }, 'x'.repeat(40), false, DEFAULT_CONTINUATION).request.max_tokens).toBe(90);
    expect(continuationRequest({ ...base, max_completion_tokens: 5 }, 'x'.repeat(400), false, DEFAULT_CONTINUATION).request.max_completion_tokens).toBe(1);
  });
});
