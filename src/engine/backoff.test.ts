import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles per retry with equal jitter', () => {
    expect(backoffDelay(0, 100, 10_000, 0)).toBe(50);
    expect(backoffDelay(0, 100, 10_000, 1)).toBe(100);
    expect(backoffDelay(1, 100, 10_000, 0)).toBe(100);
    expect(backoffDelay(3, 100, 10_000, 0.5)).toBe(600);
  });

  it('is capped', () => {
    expect(backoffDelay(20, 100, 1_000, 1)).toBe(1_000);
    expect(backoffDelay(20, 100, 1_000, 0)).toBe(500);
  });
});
