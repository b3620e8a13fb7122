import { describe, expect, it } from 'vitest';
import { faultActive, type FaultRule } from './fault-injection.js';

const at = (iso: string) => Date.parse(iso);
const rule = (extra: Partial<FaultRule>): FaultRule => ({ target: 'p/m', fault: { kind: 'reset' }, fraction: 1, ...extra });

describe('faultActive', () => {
  it('honours an absolute window, either end open', () => {
    const r = rule({ fromMs: at('2026-11-22T02:00:00Z'), untilMs: at('2026-11-22T03:00:00Z') });
    expect(faultActive(r, at('2026-11-22T01:59:59Z'))).toBe(false);
    expect(faultActive(r, at('2026-11-22T02:00:00Z'))).toBe(true);
    expect(faultActive(r, at('2026-11-22T03:00:00Z'))).toBe(false);
    expect(faultActive(rule({ untilMs: at('2026-11-22T03:00:00Z') }), at('2020-01-01T00:00:00Z'))).toBe(true);
  });

  it('honours a daily UTC window, including one that wraps midnight', () => {
    const night = rule({ daily: { startMinute: 120, endMinute: 180 } });
    expect(faultActive(night, at('2026-11-22T02:30:00Z'))).toBe(true);
    expect(faultActive(night, at('2026-11-23T02:30:00Z'))).toBe(true);
    expect(faultActive(night, at('2026-11-22T03:00:00Z'))).toBe(false);
    const wrap = rule({ daily: { startMinute: 23 * 60, endMinute: 60 } });
    expect(faultActive(wrap, at('2026-11-22T23:30:00Z'))).toBe(true);
    expect(faultActive(wrap, at('2026-11-22T00:30:00Z'))).toBe(true);
    expect(faultActive(wrap, at('2026-11-22T12:00:00Z'))).toBe(false);
  });
});
