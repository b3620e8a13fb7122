import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../canonical/chat.js';
import { applyOverrides } from './request-overrides.js';

const req: ChatRequest = {
  model: 'o3-mini',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'hi' },
  ],
  max_tokens: 100,
  temperature: 0.7,
};

describe('applyOverrides', () => {
  it('renames, removes and sets parameters', () => {
    const out = applyOverrides(req, { rename: { max_tokens: 'max_completion_tokens' }, remove: ['temperature'], set: { reasoning_effort: 'low' } });
    expect(out).toMatchObject({ max_completion_tokens: 100, reasoning_effort: 'low' });
    expect(out).not.toHaveProperty('max_tokens');
    expect(out).not.toHaveProperty('temperature');
    expect(req.max_tokens).toBe(100); // pure
  });

  it('prefixes or replaces the system prompt, adding one when missing', () => {
    expect(applyOverrides(req, { systemPrefix: 'You are Acme support.' }).messages[0]).toEqual({ role: 'system', content: 'You are Acme support.\n\nBe brief.' });
    expect(applyOverrides(req, { system: 'Answer in French.' }).messages[0]).toEqual({ role: 'system', content: 'Answer in French.' });
    const noSystem = applyOverrides({ ...req, messages: [{ role: 'user', content: 'hi' }] }, { systemPrefix: 'P' });
    expect(noSystem.messages).toEqual([{ role: 'system', content: 'P' }, { role: 'user', content: 'hi' }]);
  });

  it('never touches model, messages or stream through set/rename/remove', () => {
    const out = applyOverrides({ ...req, stream: true }, { set: { model: 'x', stream: false }, remove: ['messages'], rename: { model: 'foo' } });
    expect(out.model).toBe('o3-mini');
    expect(out.stream).toBe(true);
    expect(out.messages).toHaveLength(2);
  });
});
