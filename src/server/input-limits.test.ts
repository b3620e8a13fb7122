import { describe, expect, it } from 'vitest';
import { bodyLimitError, jsonDepthExceeds, requestLimitError } from './input-limits.js';

const depth = (text: string, limit: number): boolean => jsonDepthExceeds(Buffer.from(text), limit);

describe('jsonDepthExceeds', () => {
  it('counts arrays and objects, both kinds together', () => {
    expect(depth('{"a":[{"b":[]}]}', 4)).toBe(false);
    expect(depth('{"a":[{"b":[]}]}', 3)).toBe(true);
    expect(depth('[[[]],[[]]]', 3)).toBe(false);
    expect(depth('1', 1)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(depth('{"a":"[[[[{{{{"}', 1)).toBe(false);
    expect(depth('{"a":"\\"[[[[","b":"\\\\"}', 1)).toBe(false);
    expect(depth('{"a":"\\\\",   "b":[[]]}', 2)).toBe(true);
  });

  it('reads multi-byte UTF-8 and invalid bytes without confusion', () => {
    const body = Buffer.concat([Buffer.from('{"a":"é😀'), Buffer.from([0xff, 0xc0, 0x80]), Buffer.from('","b":[1]}')]);
    expect(jsonDepthExceeds(body, 2)).toBe(false);
    expect(jsonDepthExceeds(body, 1)).toBe(true);
  });

  it('stops at the limit: a hostile body costs one partial scan', () => {
    const deep = Buffer.from(`${'['.repeat(1_000_000)}`);
    expect(jsonDepthExceeds(deep, 128)).toBe(true);
  });
});

describe('request limits', () => {
  it('json_too_deep and too_many_messages as 400s naming the setting', () => {
    expect(bodyLimitError(Buffer.from('[[[]]]'), 2)).toMatchObject({ status: 400, code: 'json_too_deep', param: null });
    expect(bodyLimitError(Buffer.from('[[[]]]'), 3)).toBeUndefined();
    const messages = Array.from({ length: 3 }, () => ({ role: 'user' as const, content: 'x' }));
    expect(requestLimitError({ model: 'm', messages }, 2)).toMatchObject({ status: 400, code: 'too_many_messages', param: 'messages' });
    expect(requestLimitError({ model: 'm', messages }, 3)).toBeUndefined();
  });
});
