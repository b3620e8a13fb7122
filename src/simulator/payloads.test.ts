import { describe, expect, it } from 'vitest';
import { redactKey } from './errors.js';
import {
  contentPieces,
  estimateTokens,
  jsonFragments,
  newAnthropicRequestId,
  newCallId,
  newCompletionId,
  newMessageId,
  newResponseId,
  newToolUseId,
  splitExactly,
  wordPieces,
} from './payloads.js';

describe('text splitting', () => {
  it('splits into word-ish pieces keeping leading whitespace', () => {
    expect(wordPieces('Hello from the simulator.')).toEqual(['Hello', ' from', ' the', ' simulator.']);
    expect(wordPieces('  a  b ').join('')).toBe('  a  b ');
    expect(wordPieces('')).toEqual([]);
  });

  it.each([1, 2, 3, 7, 20, 40])('splits into exactly %i pieces that re-join to the text', (n) => {
    const text = 'The quick brown fox jumps over the lazy dog, twice.';
    const pieces = splitExactly(text, n);
    expect(pieces).toHaveLength(n);
    expect(pieces.join('')).toBe(text);
  });

  it('never splits a surrogate pair', () => {
    const pieces = splitExactly('a😀b', 3);
    expect(pieces).toEqual(['a', '😀', 'b']);
  });

  it('guarantees a minimum number of pieces when asked', () => {
    expect(contentPieces('one two', undefined, 5)).toHaveLength(5);
    expect(contentPieces('one two three', undefined, 2)).toEqual(['one', ' two', ' three']);
    expect(contentPieces('one two three', 2)).toHaveLength(2);
  });
});

describe('ids and estimates', () => {
  it('makes OpenAI-like completion ids', () => {
    const a = newCompletionId();
    expect(a).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(newCompletionId()).not.toBe(a);
  });

  it('makes Anthropic / Gemini / tool-call ids in the recorded formats', () => {
    expect(newMessageId()).toMatch(/^msg_01[1-9A-HJ-NP-Za-km-z]{22}$/);
    expect(newToolUseId()).toMatch(/^toolu_01[1-9A-HJ-NP-Za-km-z]{22}$/);
    expect(newAnthropicRequestId()).toMatch(/^req_011C[1-9A-HJ-NP-Za-km-z]{20}$/);
    expect(newCallId()).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(newResponseId()).toMatch(/^[A-Za-z0-9_-]{23}$/);
  });

  it('fragments JSON the way tool arguments stream', () => {
    const json = JSON.stringify({ city: 'Paris', n: 1 });
    const parts = jsonFragments(json);
    expect(parts.join('')).toBe(json);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.every((p) => Array.from(p).length <= 5)).toBe(true);
    expect(jsonFragments('{}')).toEqual(['{}']);
  });

  it('estimates ~4 chars per token', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
  });

  it('redacts API keys like the real API', () => {
    expect(redactKey('sk-abcdefghijklmnop1234')).toBe('sk-****************1234');
    expect(redactKey('sk-1')).toBe('sk-****');
  });
});
