import { describe, expect, it } from 'vitest';
import type { EmbeddingRequest } from '../canonical/embeddings.js';
import type { EmbeddingTarget } from '../providers/embedding-target.js';
import { MemoryStateStore } from '../state/memory.js';
import type { RequestRecord } from './attempt.js';
import { Engine } from './engine.js';
import type { EmbedResult } from './embed.js';
import { FakeClock } from './fake-clock.js';
import { DEFAULT_POLICY, type EmbeddingRoute, type LiveRung, type Timeouts } from './route.js';
import { ScriptedEmbeddingTarget } from './__fixtures__/scripted-embedding-target.js';

const timeouts: Timeouts = { headersMs: 1_000, firstTokenMs: 2_000, stallMs: 500, totalMs: 3_000 };
const TEXTS: EmbeddingRequest = { model: 'embed', input: ['a', 'b'] };

function setup(ladder: (clock: FakeClock) => LiveRung<EmbeddingTarget>[], options: { deadlineMs?: number; equivalentModels?: string[][] } = {}) {
  const clock = new FakeClock();
  const records: RequestRecord[] = [];
  const state = new MemoryStateStore();
  const engine = new Engine({ state, clock, random: () => 0.5, onRecord: (r) => records.push(r) });
  const route: EmbeddingRoute = {
    name: 'embed',
    ladder: ladder(clock),
    deadlineMs: options.deadlineMs ?? 60_000,
    policy: { ...DEFAULT_POLICY, backoffBaseMs: 200, backoffMaxMs: 1_000 },
    defaultTimeouts: timeouts,
    defaultRetries: 1,
    equivalentModels: options.equivalentModels ?? [],
  };
  const run = (request: EmbeddingRequest = TEXTS, signal = new AbortController().signal) => engine.embed(route, request, { requestId: 'req-1', signal });
  return { clock, records, run };
}

function rung(...targets: EmbeddingTarget[]): LiveRung<EmbeddingTarget> {
  return { type: 'targets', targets, timeouts, retries: 1, origin: 'route' };
}

async function settleWith<T>(clock: FakeClock, promise: Promise<T>, stepMs: number, maxSteps = 200): Promise<T> {
  let done = false;
  let value: T | undefined;
  void promise.then((v) => {
    done = true;
    value = v;
  });
  for (let i = 0; i < maxSteps && !done; i++) await clock.advance(stepMs);
  if (!done) throw new Error('did not settle');
  return value as T;
}

function vectors(result: EmbedResult): number[][] {
  if (result.type !== 'response') throw new Error(`expected a response, got ${JSON.stringify(result.error)}`);
  return result.response.data.map((d) => d.embedding);
}

describe('Engine.embed on a fake clock', () => {
  it('retries a 5xx on the same target after the jittered backoff, then serves; one record', async () => {
    let primary!: ScriptedEmbeddingTarget;
    const { clock, run, records } = setup((c) => [rung((primary = new ScriptedEmbeddingTarget('p/m', c, [{ fail: { kind: 'server_error', status: 500 } }, { ok: true }])))]);
    const result = await settleWith(clock, run(), 50);
    expect(primary.calls).toBe(2);
    expect(vectors(result)).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ route: 'embed', status: 200, stream: false, servedBy: 'p/m' });
    expect(records[0]?.attempts.map((a) => [a.reason, a.outcome, a.decision?.rule ?? null])).toEqual([
      ['primary', 'failed', 'transient_retry'],
      ['retry', 'ok', null],
    ]);
  });

  it('a silent target is given up at total_ms and the next one serves', async () => {
    const { clock, run, records } = setup((c) => [rung(new ScriptedEmbeddingTarget('p/m', c, [{ hang: true }])), rung(new ScriptedEmbeddingTarget('b/m', c, [{ ok: true }], undefined, 2))]);
    const result = await settleWith(clock, run(), 100);
    expect(vectors(result)[0]).toEqual([2, 0]);
    expect(result.type === 'response' && result.served.servedBy).toBe('b/m');
    const [first] = records[0]?.attempts ?? [];
    expect(first?.failure).toMatchObject({ kind: 'timeout_headers', message: 'no response within the attempt limit of 3000 ms' });
    expect((first?.endedAt ?? 0) - (first?.startedAt ?? 0)).toBe(3_000);
  });

  it('the request deadline bounds every attempt: 503 listing them', async () => {
    const { clock, run } = setup((c) => [rung(new ScriptedEmbeddingTarget('p/m', c, [{ hang: true }])), rung(new ScriptedEmbeddingTarget('b/m', c, [{ hang: true }]))], { deadlineMs: 4_000 });
    const result = await settleWith(clock, run(), 100);
    expect(result.type).toBe('error');
    if (result.type !== 'error') return;
    expect(result.error.status).toBe(503);
    expect(result.attempts.map((a) => [a.target, a.failure?.kind])).toEqual([
      ['p/m', 'timeout_headers'],
      ['b/m', 'deadline_exceeded'],
    ]);
  });

  it('a long Retry-After cools the target in the state store: the next request skips it', async () => {
    let primary!: ScriptedEmbeddingTarget;
    const { clock, run } = setup((c) => [
      rung((primary = new ScriptedEmbeddingTarget('p/m', c, [{ fail: { kind: 'rate_limited', status: 429, retryAfterMs: 30_000 } }, { ok: true }]))),
      rung(new ScriptedEmbeddingTarget('b/m', c, [{ ok: true }], undefined, 2)),
    ]);
    expect(vectors(await settleWith(clock, run(), 10))[0]).toEqual([2, 0]);
    const second = await settleWith(clock, run(), 10);
    expect(primary.calls).toBe(1);
    expect(second.type === 'response' && second.served.attempts.map((a) => [a.target, a.outcome])).toEqual([
      ['p/m', 'skipped'],
      ['b/m', 'ok'],
    ]);
  });

  it('context window: every target of the same vector space is skipped, even under another name → 400 on `input`', async () => {
    let twin!: ScriptedEmbeddingTarget;
    const { clock, run } = setup(
      (c) => [rung(new ScriptedEmbeddingTarget('p/small', c, [{ fail: { kind: 'context_window', status: 400 } }])), rung((twin = new ScriptedEmbeddingTarget('azure/small-prod', c, [{ ok: true }])))],
      { equivalentModels: [['small', 'small-prod']] },
    );
    const result = await settleWith(clock, run(), 10);
    expect(twin.calls).toBe(0);
    expect(result.type === 'error' && result.error).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'input' });
  });

  it('token input skips a text-only target; with no capable target the client gets a 400 saying why', async () => {
    const textOnly = { tokenInput: false, maxInputs: 100 };
    const { clock, run } = setup((c) => [rung(new ScriptedEmbeddingTarget('g/m', c, [{ ok: true }], textOnly)), rung(new ScriptedEmbeddingTarget('o/m', c, [{ ok: true }], undefined, 3))]);
    const served = await settleWith(clock, run({ model: 'embed', input: [[1, 2, 3]] }), 10);
    expect(served.type === 'response' && served.served.attempts.map((a) => [a.target, a.outcome, a.skipReason ?? null])).toEqual([
      ['g/m', 'skipped', 'the request sends token arrays and this target takes text only'],
      ['o/m', 'ok', null],
    ]);
    const only = setup((c) => [rung(new ScriptedEmbeddingTarget('g/m', c, [{ ok: true }], textOnly))]);
    const rejected = await settleWith(only.clock, only.run({ model: 'embed', input: Array.from({ length: 101 }, () => 'x') }), 10);
    expect(rejected.type === 'error' && rejected.error).toMatchObject({ status: 400, code: 'no_capable_target' });
  });

  it('a response with the wrong number of vectors is never served: the next target answers', async () => {
    const { clock, run, records } = setup((c) => [
      rung(new ScriptedEmbeddingTarget('p/m', c, [{ ok: true, vectors: [[1, 2]] }])),
      rung(new ScriptedEmbeddingTarget('b/m', c, [{ ok: true }], undefined, 2)),
    ]);
    expect(vectors(await settleWith(clock, run(), 10))).toHaveLength(2);
    expect(records[0]?.attempts[0]?.failure).toMatchObject({ kind: 'malformed_response', code: 'vector_count' });
  });

  it('an invalid request stops the ladder with the provider’s 400; a client that leaves gets 499', async () => {
    let backup!: ScriptedEmbeddingTarget;
    const { clock, run } = setup((c) => [
      rung(new ScriptedEmbeddingTarget('p/m', c, [{ fail: { kind: 'invalid_request', status: 400, message: 'bad input', param: 'input' } }])),
      rung((backup = new ScriptedEmbeddingTarget('b/m', c, [{ ok: true }]))),
    ]);
    const stopped = await settleWith(clock, run(), 10);
    expect(stopped.type === 'error' && stopped.error).toMatchObject({ status: 400, message: 'bad input', param: 'input' });
    expect(backup.calls).toBe(0);

    const gone = setup((c) => [rung(new ScriptedEmbeddingTarget('p/m', c, [{ hang: true }]))]);
    const controller = new AbortController();
    const pending = gone.run(TEXTS, controller.signal);
    await gone.clock.advance(10);
    controller.abort();
    const result = await settleWith(gone.clock, pending, 10);
    expect(result.type === 'error' && result.error.status).toBe(499);
    expect(gone.records[0]?.status).toBe(499);
  });
});
