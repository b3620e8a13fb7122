import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../canonical/chat.js';
import { UpstreamFailure } from '../canonical/failure.js';
import { ScriptedTarget } from '../engine/__fixtures__/scripted-target.js';
import { FakeClock } from '../engine/fake-clock.js';
import { FaultBook } from './fault-book.js';
import { faultActive, RequestFault, withFaults, type FaultRule } from './fault-injection.js';
import type { CallOptions } from './target.js';

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

describe('withFaults', () => {
  const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  const options = (fault?: RequestFault): CallOptions => ({ signal: new AbortController().signal, stream: false, ...(fault ? { fault } : {}) });
  const outcome = (call: Promise<unknown>): Promise<string> =>
    call.then(
      () => 'ok',
      (error: unknown) => (error instanceof UpstreamFailure ? error.details.kind : 'other'),
    );

  it('reads the book per call: a rule added at run time applies to the next call, and its removal too', async () => {
    const clock = new FakeClock();
    const real = new ScriptedTarget('p/a', clock, [{ text: 'hello' }]);
    const book = new FaultBook([], clock);
    const target = withFaults(real, book, clock, () => 0);
    expect(await outcome(target.call(request, options()))).toBe('ok');
    const entry = book.add({ target: 'p/a', fault: { kind: 'status', status: 503 }, fraction: 1 });
    expect(await outcome(target.call(request, options()))).toBe('overloaded');
    book.remove(entry.id);
    expect(await outcome(target.call(request, options()))).toBe('ok');
    expect(real.calls).toBe(2);
  });

  it('a request fault without a target applies to the first call only; with one, to every call to that target', async () => {
    const clock = new FakeClock();
    const book = new FaultBook([], clock);
    const a = withFaults(new ScriptedTarget('p/a', clock, [{ text: 'a' }]), book, clock, () => 0);
    const b = withFaults(new ScriptedTarget('p/b', clock, [{ text: 'b' }]), book, clock, () => 0);
    const first = new RequestFault({ kind: 'reset' }, undefined);
    expect(await outcome(b.call(request, options(first)))).toBe('connection');
    expect(await outcome(a.call(request, options(first)))).toBe('ok');
    expect(await outcome(b.call(request, options(first)))).toBe('ok');
    const named = new RequestFault({ kind: 'reset' }, 'p/b');
    expect(await outcome(a.call(request, options(named)))).toBe('ok');
    expect(await outcome(b.call(request, options(named)))).toBe('connection');
    expect(await outcome(b.call(request, options(named)))).toBe('connection');
  });
});
