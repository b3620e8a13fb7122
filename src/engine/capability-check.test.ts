import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../canonical/chat.js';
import type { Capabilities } from '../providers/target.js';
import { cannotServe } from './capability-check.js';

const all: Capabilities = { tools: true, jsonSchema: true, vision: true, prefill: true, maxOutputTokens: 4_096 };
const base: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

describe('cannotServe', () => {
  it('serves a plain request anywhere', () => {
    expect(cannotServe(base, { tools: false, jsonSchema: false, vision: false, prefill: false })).toBeUndefined();
  });

  it('never sends a tool-using request (or conversation) to a target without tools', () => {
    expect(cannotServe({ ...base, tools: [{ type: 'function', function: { name: 'f' } }] }, { ...all, tools: false })).toMatch(/tools/);
    const conversation: ChatRequest = {
      ...base,
      messages: [
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'ok' },
      ],
    };
    expect(cannotServe(conversation, { ...all, tools: false })).toMatch(/tools/);
    expect(cannotServe(conversation, all)).toBeUndefined();
  });

  it('json_schema needs a target that enforces it; json_object does not', () => {
    expect(cannotServe({ ...base, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }, { ...all, jsonSchema: false })).toMatch(/JSON schema/);
    expect(cannotServe({ ...base, response_format: { type: 'json_object' } }, { ...all, jsonSchema: false })).toBeUndefined();
  });

  it('images need vision', () => {
    const withImage: ChatRequest = { ...base, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] };
    expect(cannotServe(withImage, { ...all, vision: false })).toMatch(/vision/);
  });

  it('an output budget larger than the target allows is refused; an unknown limit is not', () => {
    expect(cannotServe({ ...base, max_tokens: 8_000 }, all)).toMatch(/at most 4096/);
    expect(cannotServe({ ...base, max_completion_tokens: 8_000 }, { ...all, maxOutputTokens: undefined })).toBeUndefined();
  });
});
