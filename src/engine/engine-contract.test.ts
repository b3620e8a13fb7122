import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../canonical/chat.js';
import { MemoryStateStore } from '../state/memory.js';
import type { RequestRecord } from './attempt.js';
import { compileRouteContract, type RouteContractSpec } from './contract.js';
import { Engine, type EngineResult, type StreamItem } from './engine.js';
import { FakeClock } from './fake-clock.js';
import { DEFAULT_POLICY, type Route, type Rung, type Timeouts } from './route.js';
import { ScriptedTarget } from './__fixtures__/scripted-target.js';

/** Output contracts in the engine, on a fake clock: where the check runs, and what a violation does. */

const timeouts: Timeouts = { headersMs: 1_000, firstTokenMs: 2_000, stallMs: 500, totalMs: 10_000 };
const request: ChatRequest = { model: 'r', messages: [{ role: 'user', content: 'hi' }] };

function setup(ladder: (clock: FakeClock) => Rung[], contract: Partial<RouteContractSpec>) {
  const clock = new FakeClock();
  const records: RequestRecord[] = [];
  const engine = new Engine({ state: new MemoryStateStore(), clock, random: () => 0.5, onRecord: (r) => records.push(r) });
  const route: Route = {
    name: 'r',
    ladder: ladder(clock),
    deadlineMs: 60_000,
    policy: DEFAULT_POLICY,
    defaultTimeouts: timeouts,
    defaultRetries: 0,
    contract: compileRouteContract({ finishReasons: undefined, minLength: undefined, jsonSchema: undefined, regex: undefined, stream: 'pass', ...contract }),
  };
  const run = () => engine.run(route, request, { requestId: 'req-1', stream: true, signal: new AbortController().signal });
  return { clock, records, run };
}

function rung(...targets: ScriptedTarget[]): Rung {
  return { type: 'targets', targets, timeouts, retries: 0, origin: 'route' };
}

async function settle<T>(clock: FakeClock, promise: Promise<T>): Promise<T> {
  let done = false;
  let value: T | undefined;
  void promise.then((v) => {
    done = true;
    value = v;
  });
  for (let i = 0; i < 500 && !done; i++) await clock.advance(10);
  if (!done) throw new Error('did not settle');
  return value as T;
}

async function streamed(clock: FakeClock, result: EngineResult): Promise<StreamItem[]> {
  if (result.type !== 'stream') throw new Error(`expected a stream, got ${result.type}`);
  const out: StreamItem[] = [];
  return settle(
    clock,
    (async () => {
      for await (const item of result.items) out.push(item);
      return out;
    })(),
  );
}

function textOf(items: StreamItem[]): string {
  return items.map((i) => (i.type === 'chunk' ? (i.chunk.choices[0]?.delta.content ?? '') : '')).join('');
}

describe('output contracts in the engine', () => {
  it('buffer: the answer is held whole, checked, and only a passing one is streamed out', async () => {
    const { clock, run, records } = setup((c) => [rung(new ScriptedTarget('p/a', c, [{ text: 'too short' }])), rung(new ScriptedTarget('b/b', c, [{ text: 'a long enough answer' }]))], {
      minLength: 12,
      stream: 'buffer',
    });
    const items = await streamed(clock, await settle(clock, run()));
    expect(textOf(items)).toBe('a long enough answer');
    expect(items.some((i) => i.type === 'error')).toBe(false);
    expect(records[0]?.attempts.map((a) => [a.target, a.outcome, a.failure?.code])).toEqual([
      ['p/a', 'failed', 'min_length'],
      ['b/b', 'ok', undefined],
    ]);
  });

  it('buffer: the watchdogs still guard an answer being held (a stall falls back before anything was sent)', async () => {
    const { clock, run, records } = setup(
      (c) => [rung(new ScriptedTarget('p/a', c, [{ text: 'one two three four', stallAfterChunk: 2 }])), rung(new ScriptedTarget('b/b', c, [{ text: 'backup answer' }]))],
      { minLength: 1, stream: 'buffer' },
    );
    const items = await streamed(clock, await settle(clock, run()));
    expect(textOf(items)).toBe('backup answer');
    expect(records[0]?.attempts[0]?.failure?.kind).toBe('stream_stalled');
    expect(records[0]?.streamError).toBeUndefined();
  });

  it('pass: the answer streams as it comes; a violation found at its end ends the stream with an error item', async () => {
    let backup!: ScriptedTarget;
    const { clock, run, records } = setup((c) => [rung(new ScriptedTarget('p/a', c, [{ text: 'too short' }])), rung((backup = new ScriptedTarget('b/b', c, [{ text: 'a long enough answer' }])))], {
      minLength: 12,
    });
    const items = await streamed(clock, await settle(clock, run()));
    expect(textOf(items)).toBe('too short');
    expect(items.at(-1)).toMatchObject({ type: 'error', error: { status: 502, code: 'contract_violation' } });
    expect(backup.calls).toBe(0);
    expect(records[0]?.streamError).toBe('contract_violation');
    expect(records[0]?.attempts[0]).toMatchObject({ outcome: 'failed', failure: { kind: 'contract_violation', code: 'min_length' }, decision: { action: 'stop', rule: 'committed_stream' } });
  });
});
