import { describe, expect, it } from 'vitest';
import { inOutage, resolveScenario, type ResolveState } from './resolve.js';
import type { Scenario } from './scenario.js';

const state = (now = 0, epoch = 0): ResolveState => ({ counters: new Map(), now, epoch });

describe('resolveScenario', () => {
  it('returns leaf scenarios unchanged', () => {
    const s: Scenario = { kind: 'ok', text: 'x' };
    expect(resolveScenario(s, state())).toBe(s);
  });

  it('fail_first counts calls and then switches', () => {
    const s: Scenario = { kind: 'fail_first', n: 2, failure: { kind: 'reset' }, then: { kind: 'empty' } };
    const st = state();
    expect([1, 2, 3, 4].map(() => resolveScenario(s, st).kind)).toEqual(['reset', 'reset', 'empty', 'empty']);
  });

  it('fail_first with n = 0 never fails', () => {
    const s: Scenario = { kind: 'fail_first', n: 0, failure: { kind: 'reset' }, then: { kind: 'empty' } };
    expect(resolveScenario(s, state()).kind).toBe('empty');
  });

  it('nested fail_first keeps its own counter', () => {
    const s: Scenario = {
      kind: 'fail_first',
      n: 1,
      failure: { kind: 'reset' },
      then: { kind: 'fail_first', n: 1, failure: { kind: 'no_response' }, then: { kind: 'ok' } },
    };
    const st = state();
    expect([1, 2, 3].map(() => resolveScenario(s, st).kind)).toEqual(['reset', 'no_response', 'ok']);
  });

  it('outage follows the schedule from the epoch plus offset', () => {
    const s: Scenario = { kind: 'outage', down_ms: 100, every_ms: 1000, then: { kind: 'ok' } };
    const at = (now: number): string => resolveScenario(s, state(now, 5000)).kind;
    expect([5000, 5099, 5100, 5999, 6000, 6050, 6100].map(at)).toEqual(['status', 'status', 'ok', 'ok', 'status', 'status', 'ok']);
    const shifted: Scenario = { ...s, offset_ms: 950, failure: { kind: 'reset' } };
    expect(resolveScenario(shifted, state(5000, 5000)).kind).toBe('ok');
    expect(resolveScenario(shifted, state(5050, 5000)).kind).toBe('reset');
  });

  it('inOutage handles times before the origin', () => {
    expect(inOutage(-1, 10, 100)).toBe(false);
    expect(inOutage(-95, 10, 100)).toBe(true);
  });
});
