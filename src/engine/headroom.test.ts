import { describe, expect, it } from 'vitest';
import { HEADROOM_STALE_MS, headroomShare, parseGoDuration, parseHeadroom } from './headroom.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('parseHeadroom', () => {
  it('reads OpenAI x-ratelimit-* headers: limits, remaining, and resets as Go durations', () => {
    const headers = {
      'x-request-id': 'req_1',
      'x-ratelimit-limit-requests': '10000',
      'x-ratelimit-limit-tokens': '30000000',
      'x-ratelimit-remaining-requests': '9999',
      'x-ratelimit-remaining-tokens': '29999000',
      'x-ratelimit-reset-requests': '6ms',
      'x-ratelimit-reset-tokens': '1m2.5s',
    };
    expect(parseHeadroom(headers, NOW)).toEqual({
      at: NOW,
      windows: {
        requests: { remaining: 9_999, limit: 10_000, resetAt: NOW + 6 },
        tokens: { remaining: 29_999_000, limit: 30_000_000, resetAt: NOW + 62_500 },
      },
    });
  });

  it('reads Anthropic anthropic-ratelimit-* headers, input and output tokens included, resets as RFC 3339 times', () => {
    const headers = {
      'request-id': 'req_1',
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': '2026-03-01T12:00:01Z',
      'anthropic-ratelimit-tokens-limit': '90000',
      'anthropic-ratelimit-tokens-remaining': '0',
      'anthropic-ratelimit-tokens-reset': '2026-03-01T12:00:30Z',
      'anthropic-ratelimit-input-tokens-limit': '80000',
      'anthropic-ratelimit-input-tokens-remaining': '40000',
      'anthropic-ratelimit-output-tokens-limit': '16000',
      'anthropic-ratelimit-output-tokens-remaining': '8000',
    };
    expect(parseHeadroom(headers, NOW)).toEqual({
      at: NOW,
      windows: {
        requests: { remaining: 49, limit: 50, resetAt: NOW + 1_000 },
        tokens: { remaining: 0, limit: 90_000, resetAt: NOW + 30_000 },
        input_tokens: { remaining: 40_000, limit: 80_000 },
        output_tokens: { remaining: 8_000, limit: 16_000 },
      },
    });
  });

  it('keeps a window only when it says what remains, and ignores values it cannot read', () => {
    expect(parseHeadroom({ 'x-request-id': 'r' }, NOW)).toBeUndefined();
    expect(parseHeadroom({ 'x-ratelimit-limit-requests': '100' }, NOW)).toBeUndefined();
    expect(parseHeadroom({ 'x-ratelimit-remaining-requests': 'lots', 'x-ratelimit-remaining-tokens': '-3' }, NOW)).toBeUndefined();
    expect(parseHeadroom({ 'x-ratelimit-remaining-requests': '7', 'x-ratelimit-reset-requests': 'soon' }, NOW)).toEqual({ at: NOW, windows: { requests: { remaining: 7 } } });
    expect(parseHeadroom({ 'anthropic-ratelimit-requests-remaining': '7', 'anthropic-ratelimit-requests-reset': 'tomorrow' }, NOW)).toEqual({ at: NOW, windows: { requests: { remaining: 7 } } });
  });
});

describe('parseGoDuration', () => {
  it('reads the durations OpenAI sends', () => {
    expect(parseGoDuration('1s')).toBe(1_000);
    expect(parseGoDuration('6m0s')).toBe(360_000);
    expect(parseGoDuration('20ms')).toBe(20);
    expect(parseGoDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseGoDuration('0s')).toBe(0);
  });

  it('refuses anything else', () => {
    for (const text of ['', '5', 'soon', '1x', '-1s', '1s later']) expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('headroomShare', () => {
  it('is the share left of the tightest window', () => {
    const headroom = { at: NOW, windows: { requests: { remaining: 90, limit: 100 }, tokens: { remaining: 3_000, limit: 10_000 } } };
    expect(headroomShare(headroom, undefined, NOW)).toBeCloseTo(0.3);
  });

  it('uses configured rpm / tpm where the provider sent no limit', () => {
    const headroom = { at: NOW, windows: { requests: { remaining: 25 }, tokens: { remaining: 500 } } };
    expect(headroomShare(headroom, { rpm: 100 }, NOW)).toBeCloseTo(0.25);
    expect(headroomShare(headroom, { rpm: 100, tpm: 1_000 }, NOW)).toBeCloseTo(0.25);
    expect(headroomShare(headroom, { rpm: 100, tpm: 5_000 }, NOW)).toBeCloseTo(0.1);
  });

  it('counts a window of unknown size only when it is empty', () => {
    expect(headroomShare({ at: NOW, windows: { requests: { remaining: 25 } } }, undefined, NOW)).toBeUndefined();
    expect(headroomShare({ at: NOW, windows: { requests: { remaining: 0 } } }, undefined, NOW)).toBe(0);
  });

  it('counts a window whose reset time passed as full again', () => {
    const headroom = { at: NOW, windows: { requests: { remaining: 0, limit: 50, resetAt: NOW + 1_000 } } };
    expect(headroomShare(headroom, undefined, NOW + 999)).toBe(0);
    expect(headroomShare(headroom, undefined, NOW + 1_000)).toBe(1);
  });

  it('forgets a report with no reset time after a minute, and knows nothing without one', () => {
    const headroom = { at: NOW, windows: { requests: { remaining: 10, limit: 100 } } };
    expect(headroomShare(headroom, undefined, NOW + HEADROOM_STALE_MS)).toBeCloseTo(0.1);
    expect(headroomShare(headroom, undefined, NOW + HEADROOM_STALE_MS + 1)).toBeUndefined();
    expect(headroomShare(undefined, { rpm: 100 }, NOW)).toBeUndefined();
  });
});
