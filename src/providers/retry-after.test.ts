import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './retry-after.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('prefers retry-after-ms', () => expect(parseRetryAfter({ 'retry-after-ms': '250.5', 'retry-after': '9' }, now)).toBe(251));
  it('reads delta-seconds', () => expect(parseRetryAfter({ 'retry-after': '2' }, now)).toBe(2_000));
  it('reads fractional seconds', () => expect(parseRetryAfter({ 'retry-after': '0.5' }, now)).toBe(500));
  it('reads an HTTP date', () => expect(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }, now)).toBe(3_000));
  it('a date in the past means now', () => expect(parseRetryAfter({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }, now)).toBe(0));
  it('ignores garbage and absence', () => {
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': '-5' }, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
  });
});
