import { describe, expect, it } from 'vitest';
import { FakeClock } from '../engine/fake-clock.js';
import { FaultBook } from './fault-book.js';
import type { FaultRule } from './fault-injection.js';

const rule = (target: string, extra: Partial<FaultRule> = {}): FaultRule => ({ target, fault: { kind: 'reset' }, fraction: 1, ...extra });

describe('FaultBook', () => {
  it('holds the config rules as config-<n>, which cannot be deleted', () => {
    const book = new FaultBook([rule('p/a'), rule('p/b')], new FakeClock());
    expect(book.list().map((e) => [e.id, e.source])).toEqual([
      ['config-0', 'config'],
      ['config-1', 'config'],
    ]);
    expect(book.remove('config-0')).toBe('config');
    expect(book.rulesFor('p/a')).toHaveLength(1);
  });

  it('gives a target without rules the same empty array every call', () => {
    const book = new FaultBook([rule('p/a')], new FakeClock());
    expect(book.rulesFor('p/other')).toHaveLength(0);
    expect(book.rulesFor('p/other')).toBe(book.rulesFor('p/else'));
  });

  it('adds and deletes admin rules; a reader keeps the array it already has', () => {
    let n = 0;
    const book = new FaultBook([], new FakeClock(), () => `fault_${++n}`);
    const first = book.add(rule('p/a'));
    expect(first).toMatchObject({ id: 'fault_1', source: 'admin', createdAt: 1_700_000_000_000 });
    const held = book.rulesFor('p/a');
    book.add(rule('p/a', { fault: { kind: 'empty_output' } }));
    expect(held).toHaveLength(1);
    expect(book.rulesFor('p/a')).toHaveLength(2);
    expect(book.remove('fault_1')).toBe('removed');
    expect(book.remove('fault_1')).toBe('not_found');
    expect(book.rulesFor('p/a').map((r) => r.fault.kind)).toEqual(['empty_output']);
    expect(book.adminCount).toBe(1);
  });

  it('drops an admin rule once the clock passes its end, without timers', async () => {
    const clock = new FakeClock();
    const book = new FaultBook([rule('p/a', { untilMs: clock.now() + 1_000 })], clock);
    const entry = book.add(rule('p/a', { untilMs: clock.now() + 1_000 }));
    expect(book.rulesFor('p/a')).toHaveLength(2);
    expect(clock.timers).toBe(0);
    await clock.advance(999);
    expect(book.list().map((e) => e.id)).toContain(entry.id);
    await clock.advance(1);
    expect(book.rulesFor('p/a')).toHaveLength(1); // the config rule stays listed: config is the file's
    expect(book.list().map((e) => e.id)).toEqual(['config-0']);
    expect(book.remove(entry.id)).toBe('not_found');
  });
});
