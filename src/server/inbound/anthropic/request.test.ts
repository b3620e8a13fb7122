import { describe, expect, it } from 'vitest';
import { reasoningEffort } from './request.js';

describe('reasoningEffort', () => {
  it.each([
    [1_024, 'low'],
    [4_095, 'low'],
    [4_096, 'medium'],
    [12_287, 'medium'],
    [12_288, 'high'],
    [64_000, 'high'],
    [undefined, 'medium'],
  ] as const)('budget %s → %s', (budget, effort) => expect(reasoningEffort(budget)).toBe(effort));
});
