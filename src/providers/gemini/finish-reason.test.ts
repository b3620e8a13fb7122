import { describe, expect, it } from 'vitest';
import { finishVerdict } from './finish-reason.js';
import { GEMINI_FINISH_REASONS } from './wire.js';

describe('finishVerdict', () => {
  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', false, 'length'],
    ['MAX_TOKENS', true, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['BLOCKLIST', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['SPII', false, 'content_filter'],
    ['IMAGE_SAFETY', false, 'content_filter'],
    ['IMAGE_PROHIBITED_CONTENT', false, 'content_filter'],
    ['IMAGE_OTHER', false, 'content_filter'],
    ['IMAGE_RECITATION', false, 'content_filter'],
    ['LANGUAGE', false, 'stop'],
    ['OTHER', false, 'stop'],
    ['NO_IMAGE', false, 'stop'],
    ['FINISH_REASON_UNSPECIFIED', false, 'stop'],
    ['UNEXPECTED_TOOL_CALL', false, 'stop'],
    ['TOO_MANY_TOOL_CALLS', true, 'tool_calls'],
    ['A_REASON_GOOGLE_ADDS_LATER', false, 'stop'],
  ] as const)('%s (calls: %s) → %s', (raw, calls, reason) => {
    expect(finishVerdict(raw, calls)).toEqual({ ok: true, reason });
  });

  it('fails a malformed function call', () => {
    expect(finishVerdict('MALFORMED_FUNCTION_CALL', false)).toMatchObject({ ok: false, code: 'MALFORMED_FUNCTION_CALL' });
  });

  it('covers every reason of the schema', () => {
    const schema = GEMINI_FINISH_REASONS.map((raw) => finishVerdict(raw, false));
    expect(schema.filter((v) => !v.ok)).toHaveLength(1);
  });
});
