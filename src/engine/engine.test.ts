import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../canonical/chat.js';
import { MemoryStateStore } from '../state/memory.js';
import type { RequestRecord } from './attempt.js';
import { DEFAULT_CONTINUATION } from './continuation.js';
import { Engine, type EngineResult, type StreamItem } from './engine.js';
import { FakeClock } from './fake-clock.js';
import { DEFAULT_RETRY_BUDGET_CONFIG, RetryBudget, type RetryBudgetConfig } from './retry-budget.js';
import { DEFAULT_POLICY, type Route, type Rung, type Timeouts } from './route.js';
import { ScriptedTarget, type Step } from './__fixtures__/scripted-target.js';

const timeouts: Timeouts = { headersMs: 1_000, firstTokenMs: 2_000, stallMs: 500, totalMs: 10_000 };
const request: ChatRequest = { model: 'r', messages: [{ role: 'user', content: 'hi' }] };

function setup(ladder: (clock: FakeClock) => Rung[], deadlineMs = 60_000, retryBudget?: Partial<RetryBudgetConfig>) {
  const clock = new FakeClock();
  const records: RequestRecord[] = [];
  const state = new MemoryStateStore();
  const budget = retryBudget ? { retryBudget: new RetryBudget(state, { ...DEFAULT_RETRY_BUDGET_CONFIG, ...retryBudget }) } : {};
  const engine = new Engine({ state, clock, random: () => 0.5, onRecord: (r) => records.push(r), ...budget });
  const route: Route = {
    name: 'r',
    ladder: ladder(clock),
    deadlineMs,
    policy: { ...DEFAULT_POLICY, backoffBaseMs: 200, backoffMaxMs: 1_000 },
    defaultTimeouts: timeouts,
    defaultRetries: 1,
  };
  const run = (stream = false) => engine.run(route, request, { requestId: 'req-1', stream, signal: new AbortController().signal });
  return { clock, records, route, run };
}

function rung(...targets: ScriptedTarget[]): Rung {
  return { type: 'targets', targets, timeouts, retries: 1, origin: 'route' };
}

async function settleWith<T>(clock: FakeClock, promise: Promise<T>, stepMs: number, maxSteps = 200): Promise<T> {
  let done = false;
  let value: T | undefined;
  promise.then((v) => {
    done = true;
    value = v;
  });
  for (let i = 0; i < maxSteps && !done; i++) await clock.advance(stepMs);
  if (!done) throw new Error('did not settle');
  return value as T;
}

async function collect(items: AsyncIterable<StreamItem>): Promise<StreamItem[]> {
  const out: StreamItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function text(result: EngineResult): string {
  if (result.type !== 'response') throw new Error(`expected a response, got ${result.type}`);
  return result.response.choices[0]?.message.content ?? '';
}

describe('Engine on a fake clock', () => {
  it('waits the jittered backoff before retrying a 5xx on the same target', async () => {
    let primary!: ScriptedTarget;
    const { clock, run, records } = setup((c) => [rung((primary = new ScriptedTarget('p/a', c, [{ fail: { kind: 'server_error', status: 500 } }, { text: 'second try' }])))]);
    const pending = run();
    await clock.advance(0);
    expect(primary.calls).toBe(1);
    // random 0.5, retry 0, base 200 → 150 ms.
    await clock.advance(149);
    expect(primary.calls).toBe(1);
    await clock.advance(1);
    const result = await pending;
    expect(primary.calls).toBe(2);
    expect(text(result)).toBe('second try');
    expect(records[0]?.attempts.map((a) => a.reason)).toEqual(['primary', 'retry']);
    expect(records[0]?.attempts[0]?.decision).toEqual({ action: 'retry_same', rule: 'transient_retry', delayMs: 150 });
  });

  it('honours a short Retry-After exactly', async () => {
    let primary!: ScriptedTarget;
    const { clock, run } = setup((c) => [rung((primary = new ScriptedTarget('p/a', c, [{ fail: { kind: 'rate_limited', status: 429, retryAfterMs: 1_500 } }, { text: 'ok' }])))]);
    const pending = run();
    await clock.advance(1_499);
    expect(primary.calls).toBe(1);
    await clock.advance(1);
    expect(text(await pending)).toBe('ok');
  });

  it('cools a target after a long Retry-After and skips it on the next request at no cost', async () => {
    let primary!: ScriptedTarget;
    let backup!: ScriptedTarget;
    const { clock, run, records } = setup((c) => [
      rung((primary = new ScriptedTarget('p/a', c, [{ fail: { kind: 'rate_limited', status: 429, retryAfterMs: 30_000 } }, { text: 'primary' }]))),
      rung((backup = new ScriptedTarget('b/b', c, [{ text: 'backup' }]))),
    ]);
    expect(text(await settleWith(clock, run(), 1))).toBe('backup');
    expect(text(await settleWith(clock, run(), 1))).toBe('backup');
    expect(primary.calls).toBe(1);
    expect(backup.calls).toBe(2);
    expect(records[1]?.attempts[0]).toMatchObject({ outcome: 'skipped', target: 'p/a' });
    await clock.advance(30_000);
    expect(text(await settleWith(clock, run(), 1))).toBe('primary');
  });

  it('fails a silent target on the headers timeout, then moves on', async () => {
    let silent!: ScriptedTarget;
    const { clock, run, records } = setup((c) => [rung((silent = new ScriptedTarget('p/a', c, [{ hang: true }]))), rung(new ScriptedTarget('b/b', c, [{ text: 'backup' }]))]);
    const pending = run(true);
    await clock.advance(999);
    expect(records).toHaveLength(0);
    await clock.advance(1);
    const result = await pending;
    expect(result.type).toBe('stream');
    expect(silent.aborted).toBe(1);
    if (result.type === 'stream') await collect(result.items);
    expect(records[0]?.attempts[0]?.failure?.kind).toBe('timeout_headers');
    expect(records[0]?.servedBy).toBe('b/b');
  });

  it('fails a target whose first token is late, measured from its headers', async () => {
    const { clock, run, records } = setup((c) => [
      rung(new ScriptedTarget('p/a', c, [{ text: 'late', headersAfterMs: 300, firstAfterMs: 5_000 }])),
      rung(new ScriptedTarget('b/b', c, [{ text: 'backup' }])),
    ]);
    const pending = run(true);
    await clock.advance(300 + 1_999);
    expect(records).toHaveLength(0);
    await clock.advance(1);
    const result = await pending;
    if (result.type === 'stream') await collect(result.items);
    expect(records[0]?.attempts[0]?.failure?.kind).toBe('timeout_first_token');
    expect(records[0]?.servedBy).toBe('b/b');
  });

  it('ends a committed stream with an error item when it stalls after output (continuation off)', async () => {
    const { clock, run, records, route } = setup((c) => [rung(new ScriptedTarget('p/a', c, [{ text: 'one two three', stallAfterChunk: 2 }])), rung(new ScriptedTarget('b/b', c, [{ text: 'backup' }]))]);
    route.continuation = { ...DEFAULT_CONTINUATION, enabled: false };
    const result = await settleWith(clock, run(true), 1);
    expect(result.type).toBe('stream');
    if (result.type !== 'stream') return;
    const itemsPromise = collect(result.items);
    await clock.advance(499);
    expect(records).toHaveLength(0);
    await clock.advance(1);
    const items = await itemsPromise;
    const last = items.at(-1);
    expect(last?.type).toBe('error');
    expect(items.filter((i) => i.type === 'chunk').length).toBeGreaterThan(1);
    expect(records[0]?.streamError).toBe('stream_stalled');
    expect(records[0]?.attempts).toHaveLength(1);
  });

  it('one deadline bounds every attempt; the static rung still answers after it', async () => {
    const { clock, run, records } = setup(
      (c) => [rung(new ScriptedTarget('p/a', c, [{ hang: true }])), rung(new ScriptedTarget('b/b', c, [{ hang: true }])), { type: 'static', content: 'busy' }],
      1_500,
    );
    const pending = run();
    await clock.advance(1_000); // first target's headers timeout
    await clock.advance(499);
    expect(records).toHaveLength(0);
    await clock.advance(1); // deadline passes during the second attempt
    const result = await pending;
    expect(text(result)).toBe('busy');
    expect(records[0]?.attempts.map((a) => a.failure?.kind ?? a.outcome)).toEqual(['timeout_headers', 'deadline_exceeded', 'ok']);
    expect(records[0]?.degraded).toBe(true);
    expect(records[0]?.endedAt).toBe(records[0]!.startedAt + 1_500);
  });

  it('without a static rung, the deadline gives a 503 listing the attempts', async () => {
    const { clock, run } = setup((c) => [rung(new ScriptedTarget('p/a', c, [{ hang: true }]))], 700);
    const pending = run();
    await clock.advance(700);
    const result = await pending;
    expect(result.type).toBe('error');
    if (result.type === 'error') {
      expect(result.error.status).toBe(503);
      expect(result.error.message).toContain('p/a: deadline_exceeded');
    }
  });

  it('does not retry a backoff that would outlive the deadline', async () => {
    let primary!: ScriptedTarget;
    const { clock, run } = setup((c) => [rung((primary = new ScriptedTarget('p/a', c, [{ fail: { kind: 'server_error', status: 500 } }])))], 100);
    const result = await settleWith(clock, run(), 10);
    expect(primary.calls).toBe(1);
    expect(result.type).toBe('error');
  });

  it('never retries the same model after a context-window error', async () => {
    let a1!: ScriptedTarget;
    let a2!: ScriptedTarget;
    let big!: ScriptedTarget;
    const { clock, run } = setup((c) => [
      rung((a1 = new ScriptedTarget('p/small', c, [{ fail: { kind: 'context_window', status: 400 } }]))),
      rung((a2 = new ScriptedTarget('q/small', c, [{ text: 'same model elsewhere' }]))),
      rung((big = new ScriptedTarget('q/large', c, [{ text: 'large window' }]))),
    ]);
    expect(text(await settleWith(clock, run(), 1))).toBe('large window');
    expect([a1.calls, a2.calls, big.calls]).toEqual([1, 0, 1]);
  });

  it('stops on a client error without trying other targets', async () => {
    let backup!: ScriptedTarget;
    const { clock, run } = setup((c) => [
      rung(new ScriptedTarget('p/a', c, [{ fail: { kind: 'invalid_request', status: 400, code: 'invalid_value', param: 'temperature' } }])),
      rung((backup = new ScriptedTarget('b/b', c, [{ text: 'x' }]))),
    ]);
    const result = await settleWith(clock, run(), 1);
    expect(backup.calls).toBe(0);
    expect(result.type === 'error' && result.error).toMatchObject({ status: 400, code: 'invalid_value', param: 'temperature' });
  });

  it('answers 429 with the shortest Retry-After when every target is rate limited', async () => {
    const { clock, run } = setup((c) => [
      rung(new ScriptedTarget('p/a', c, [{ fail: { kind: 'rate_limited', status: 429, retryAfterMs: 9_000 } }])),
      rung(new ScriptedTarget('b/b', c, [{ fail: { kind: 'rate_limited', status: 429, retryAfterMs: 4_000 } }])),
    ]);
    const result = await settleWith(clock, run(), 1);
    expect(result.type === 'error' && result.error).toMatchObject({ status: 429, retryAfterMs: 4_000 });
  });
});

describe('hedged requests on a fake clock', () => {
  function hedged(ms: number, ...targets: ScriptedTarget[]): Rung {
    return { type: 'targets', targets, timeouts, retries: 1, origin: 'route', hedgeAfterMs: ms };
  }

  it('with no first token by hedge_after_ms, races the next candidate; the first to answer wins and the loser is aborted', async () => {
    let slow!: ScriptedTarget;
    let fast!: ScriptedTarget;
    const { clock, run, records } = setup((c) => [hedged(300, (slow = new ScriptedTarget('p/slow', c, [{ text: 'late answer', firstAfterMs: 1_500 }])), (fast = new ScriptedTarget('p/fast', c, [{ text: 'quick answer', firstAfterMs: 100 }])))]);
    const pending = run(true);
    await clock.advance(299);
    expect(fast.calls).toBe(0);
    await clock.advance(1);
    expect(fast.calls).toBe(1); // the hedge starts at 300 ms
    await clock.advance(100);
    const result = await pending;
    expect(result.type).toBe('stream');
    if (result.type !== 'stream') return;
    expect(result.served.servedBy).toBe('p/fast');
    expect(slow.aborted).toBe(1); // the loser's upstream call was aborted
    await collect(result.items);
    const attempts = records[0]?.attempts ?? [];
    expect(attempts.map((a) => [a.target, a.reason, a.outcome])).toEqual([
      ['p/slow', 'primary', 'lost'],
      ['p/fast', 'hedge', 'ok'],
    ]);
    // Hedge at 300 ms, its first token 100 ms later: the loser is cut off right then.
    expect((attempts[0]?.endedAt ?? 0) - (attempts[0]?.startedAt ?? 0)).toBe(400);
  });

  it('does not hedge an attempt that answers in time', async () => {
    let backup!: ScriptedTarget;
    const { clock, run } = setup((c) => [hedged(300, new ScriptedTarget('p/a', c, [{ text: 'in time', firstAfterMs: 200 }]), (backup = new ScriptedTarget('p/b', c, [{ text: 'never' }])))]);
    const result = await settleWith(clock, run(), 50);
    expect(text(result)).toBe('in time');
    expect(backup.calls).toBe(0);
  });

  it('does not hedge once the first token arrived (a non-streaming client still waiting for the end)', async () => {
    let backup!: ScriptedTarget;
    const { clock, run } = setup((c) => [hedged(300, new ScriptedTarget('p/a', c, [{ text: 'a slow but steady answer', firstAfterMs: 100, chunkGapMs: 100 }]), (backup = new ScriptedTarget('p/b', c, [{ text: 'never' }])))]);
    const result = await settleWith(clock, run(false), 50);
    expect(text(result)).toBe('a slow but steady answer');
    expect(backup.calls).toBe(0);
  });

  it('a partner that fails while the first still runs is recorded, and the request waits for the first', async () => {
    const { clock, run, records } = setup((c) => [
      hedged(300, new ScriptedTarget('p/slow', c, [{ text: 'worth the wait', firstAfterMs: 800 }]), new ScriptedTarget('p/broken', c, [{ fail: { kind: 'server_error', status: 500 } }])),
    ]);
    const result = await settleWith(clock, run(), 100);
    expect(text(result)).toBe('worth the wait');
    const attempts = records[0]?.attempts ?? [];
    expect(attempts.map((a) => [a.target, a.reason, a.outcome])).toEqual([
      ['p/slow', 'primary', 'ok'],
      ['p/broken', 'hedge', 'failed'],
    ]);
    // A retry would have raced a third attempt beside the first: decide() turns it into waiting.
    expect(attempts[1]?.decision).toEqual({ action: 'next_target', rule: 'hedge_in_flight' });
  });

  it('when both fail, the walk moves past the pair (the partner is not run twice)', async () => {
    let partner!: ScriptedTarget;
    const { clock, run, records } = setup((c) => [
      hedged(300, new ScriptedTarget('p/slow', c, [{ hang: true }]), (partner = new ScriptedTarget('p/partner', c, [{ fail: { kind: 'context_window', status: 400 } }]))),
      rung(new ScriptedTarget('b/next', c, [{ text: 'from the next rung' }])),
    ]);
    // The partner fails at once; the first gives up waiting for headers at 1 s.
    const result = await settleWith(clock, run(true), 100);
    expect(result.type).toBe('stream');
    if (result.type !== 'stream') return;
    await collect(result.items);
    expect(result.served.servedBy).toBe('b/next');
    expect(partner.calls).toBe(1);
    expect(records[0]?.attempts.map((a) => [a.target, a.reason, a.outcome])).toEqual([
      ['p/slow', 'primary', 'failed'],
      ['p/partner', 'hedge', 'failed'],
      ['b/next', 'fallback', 'ok'],
    ]);
  });

  it('a hedge is paid from the retry budget: with none left, no hedge starts and the record says why', async () => {
    let backup!: ScriptedTarget;
    const { clock, run, records } = setup(
      (c) => [hedged(300, new ScriptedTarget('p/a', c, [{ text: 'slow', firstAfterMs: 600 }]), (backup = new ScriptedTarget('p/b', c, [{ text: 'never' }])))],
      60_000,
      { ratio: 0, minRetriesPerWindow: 0 },
    );
    const result = await settleWith(clock, run(), 100);
    expect(text(result)).toBe('slow');
    expect(backup.calls).toBe(0);
    expect(records[0]?.attempts[0]?.hedgeSkipped).toBe('retry budget exhausted');
  });
});
