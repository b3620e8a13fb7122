/**
 * Every upstream failure mode, in both streaming and non-streaming mode, through the official
 * OpenAI SDK: who served, how many calls the simulator saw, the x-understudy-* headers, and
 * (for streams) that the assembled text is the complete answer of the target that served.
 */
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../src/simulator/index.js';
import { MODES, USER_MESSAGES, chat, closedPort, expectBrokenStream, expectServed, pollFor, useHarness, type Harness } from './harness.js';

const PRIMARY_TEXT = 'The primary model answers this one in several words.';
const BACKUP_TEXT = 'The backup model gives the whole answer instead.';

const start = useHarness();

/** One simulator with `primary` (scripted) and `backup` (healthy); route `chat` = primary, then backup. */
function startChat(primary: Scenario, routeExtra: Record<string, unknown> = {}): Promise<Harness> {
  return start({
    simulators: { sim: { primary, backup: { kind: 'ok', text: BACKUP_TEXT } } },
    routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }], ...routeExtra } },
  });
}

interface FallbackCase {
  name: string;
  primary: Scenario;
  /** Calls the simulator sees on the primary before the backup serves. */
  primaryCalls: number;
  reason: string;
  /** Strict lower bound on the client's wall time (a wait or a watchdog). */
  minMs?: number;
  /** Generous upper bound. */
  maxMs?: number;
}

/** Failures that move to the backup invisibly, the same way for streaming and non-streaming clients. */
const FALLBACK_CASES: FallbackCase[] = [
  { name: '429 without Retry-After', primary: { kind: 'rate_limit' }, primaryCalls: 1, reason: 'rate_limited' },
  { name: '429 with a long Retry-After (30 s)', primary: { kind: 'rate_limit', retry_after_s: 30 }, primaryCalls: 1, reason: 'rate_limited', maxMs: 5_000 },
  // A short retry-after-ms is waited out once on the same target (retries: 1), then it moves on.
  { name: '429 with a short retry-after-ms, every time', primary: { kind: 'rate_limit', retry_after_ms: 50 }, primaryCalls: 2, reason: 'rate_limited', minMs: 50 },
  { name: 'insufficient_quota', primary: { kind: 'insufficient_quota' }, primaryCalls: 1, reason: 'quota_exhausted' },
  { name: '500', primary: { kind: 'status', status: 500 }, primaryCalls: 2, reason: 'server_error' },
  { name: '502', primary: { kind: 'status', status: 502 }, primaryCalls: 2, reason: 'server_error' },
  { name: '503', primary: { kind: 'status', status: 503 }, primaryCalls: 2, reason: 'overloaded' },
  { name: '504', primary: { kind: 'status', status: 504 }, primaryCalls: 2, reason: 'server_error' },
  { name: '529', primary: { kind: 'status', status: 529 }, primaryCalls: 2, reason: 'overloaded' },
  { name: 'connection reset', primary: { kind: 'reset' }, primaryCalls: 2, reason: 'connection' },
  { name: 'no response (headers watchdog)', primary: { kind: 'no_response' }, primaryCalls: 1, reason: 'timeout_headers', minMs: 400, maxMs: 4_000 },
  { name: 'first token far too slow', primary: { kind: 'slow_first_token', delay_ms: 10_000 }, primaryCalls: 1, reason: 'timeout_first_token', minMs: 400, maxMs: 4_000 },
  { name: 'stall before any content', primary: { kind: 'stall', after_chunks: 0 }, primaryCalls: 1, reason: 'timeout_first_token', minMs: 400, maxMs: 4_000 },
  { name: 'malformed chunk before content', primary: { kind: 'malformed_chunk', after_chunks: 0 }, primaryCalls: 1, reason: 'malformed_response' },
  { name: 'garbage body', primary: { kind: 'garbage' }, primaryCalls: 1, reason: 'malformed_response' },
  { name: 'empty content', primary: { kind: 'empty' }, primaryCalls: 1, reason: 'empty_output' },
  { name: 'unsupported_parameter', primary: { kind: 'unsupported_parameter' }, primaryCalls: 1, reason: 'unsupported_parameter' },
  { name: 'auth_error 401', primary: { kind: 'auth_error' }, primaryCalls: 1, reason: 'upstream_auth' },
];

describe.each(MODES)('%s client', (mode) => {
  it('ok: served by the primary, one attempt, no fallback reason', async () => {
    const h = await startChat({ kind: 'ok', text: PRIMARY_TEXT });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/primary', model: 'primary', text: PRIMARY_TEXT, attempts: 1, reason: undefined, route: 'chat' });
    expect(h.sim.callsFor('primary')).toHaveLength(1);
    expect(h.sim.callsFor('backup')).toHaveLength(0);
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record).toMatchObject({ status: 200, servedBy: 'sim/primary', degraded: false, route: 'chat', stream: mode === 'stream' });
    expect(record.attempts).toHaveLength(1);
  });

  it.each(FALLBACK_CASES)('$name → next target', async (c) => {
    const h = await startChat(c.primary);
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: c.primaryCalls + 1, reason: c.reason, route: 'chat' });
    expect(h.sim.callsFor('primary')).toHaveLength(c.primaryCalls);
    expect(h.sim.callsFor('backup')).toHaveLength(1);
    if (c.minMs !== undefined) expect(out.ms).toBeGreaterThanOrEqual(c.minMs);
    if (c.maxMs !== undefined) expect(out.ms).toBeLessThan(c.maxMs);
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.servedBy).toBe('sim/backup');
    const failed = record.attempts.filter((a) => a.outcome === 'failed');
    expect(failed).toHaveLength(c.primaryCalls);
    for (const a of failed) expect(a.failure?.kind).toBe(c.reason);
  });

  it('a transient 503 once: the retry on the same target succeeds', async () => {
    const h = await startChat({ kind: 'fail_first', n: 1, failure: { kind: 'status', status: 503 }, then: { kind: 'ok', text: PRIMARY_TEXT } });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/primary', model: 'primary', text: PRIMARY_TEXT, attempts: 2, reason: 'overloaded' });
    expect(h.sim.callsFor('primary')).toHaveLength(2);
    expect(h.sim.callsFor('backup')).toHaveLength(0);
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.attempts.map((a) => [a.reason, a.outcome, a.decision?.action])).toEqual([
      ['primary', 'failed', 'retry_same'],
      ['retry', 'ok', undefined],
    ]);
  });

  it('429 with retry-after-ms: 50 waits at least that long, then the same target serves', async () => {
    const h = await startChat({ kind: 'fail_first', n: 1, failure: { kind: 'rate_limit', retry_after_ms: 50 }, then: { kind: 'ok', text: PRIMARY_TEXT } });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/primary', model: 'primary', text: PRIMARY_TEXT, attempts: 2, reason: 'rate_limited' });
    expect(out.ms).toBeGreaterThanOrEqual(50);
    expect(out.ms).toBeLessThan(3_000);
    const calls = h.sim.callsFor('primary');
    expect(calls).toHaveLength(2);
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(50);
    expect(h.sim.callsFor('backup')).toHaveLength(0);
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.attempts[0]?.decision).toEqual({ action: 'retry_same', rule: 'rate_limited_short_wait', delayMs: 50 });
  });

  it.each([
    { name: '429 with Retry-After: 30 s', primary: { kind: 'rate_limit', retry_after_s: 30 } as Scenario, reason: 'rate_limited', cooldownMs: 30_000 },
    { name: 'insufficient_quota', primary: { kind: 'insufficient_quota' } as Scenario, reason: 'quota_exhausted', cooldownMs: 600_000 },
    { name: 'auth_error 401', primary: { kind: 'auth_error' } as Scenario, reason: 'upstream_auth', cooldownMs: 300_000 },
  ])('$name cools the target: the next request skips it without a call', async (c) => {
    const h = await startChat(c.primary);
    const first = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectServed(first, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: 2, reason: c.reason });
    expect(first.ms).toBeLessThan(5_000);
    const firstRecord = await h.record(first.headers.get('x-request-id'));
    expect(firstRecord.attempts[0]?.decision).toMatchObject({ action: 'next_target', cooldownMs: c.cooldownMs });

    const second = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-understudy-served-by')).toBe('sim/backup');
    expect(second.headers.get('x-understudy-attempts')).toBe('1');
    // The caller is told why the primary did not answer, though it was not called.
    expect(second.headers.get('x-understudy-fallback-reason')).toBe(c.reason);
    expect(second.headers.get('x-understudy-skipped')).toMatch(new RegExp(`^sim/primary \\(cooling down after ${c.reason} for \\d+ ms more\\)$`));
    expect(second.text).toBe(BACKUP_TEXT);
    expect(second.model).toBe('backup');
    expect(h.sim.callsFor('primary')).toHaveLength(1);
    expect(h.sim.callsFor('backup')).toHaveLength(2);
    const record = await h.record(second.headers.get('x-request-id'));
    expect(record.attempts[0]).toMatchObject({ target: 'sim/primary', outcome: 'skipped', failure: { kind: c.reason } });
    expect(record.attempts[0]?.skipReason).toMatch(/cooling down/);
  });

  it('connection refused (closed port) → next target', async () => {
    const port = await closedPort();
    const h = await start({
      simulators: { sim: { backup: { kind: 'ok', text: BACKUP_TEXT } } },
      providers: { dead: { base_url: `http://127.0.0.1:${port}/v1` } },
      routes: { chat: { ladder: [{ targets: 'dead/primary' }, { targets: 'sim/backup' }] } },
    });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    // `connection` is retried once at once (nothing was processed), then the next target serves.
    expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: 3, reason: 'connection' });
    expect(out.ms).toBeLessThan(5_000);
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.attempts.slice(0, 2).map((a) => [a.target, a.failure?.kind, a.failure?.code])).toEqual([
      ['dead/primary', 'connection', 'ECONNREFUSED'],
      ['dead/primary', 'connection', 'ECONNREFUSED'],
    ]);
  });

  it('no response from a provider with stream_upstream: false → timeout on the attempt total', async () => {
    const h = await start({
      simulators: { sim: { primary: { kind: 'no_response' }, backup: { kind: 'ok', text: BACKUP_TEXT } } },
      providers: { plain: { simulator: 'sim', stream_upstream: false } },
      routes: {
        chat: { ladder: [{ targets: 'plain/primary', timeouts: { headers_ms: 200, total_ms: 700 } }, { targets: 'sim/backup' }] },
      },
    });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: 2, reason: 'timeout_headers' });
    expect(h.sim.callsFor('primary')).toHaveLength(1);
    expect(h.sim.callsFor('primary')[0]?.stream).toBe(mode === 'stream');
    if (mode === 'stream') {
      // A streaming call answers headers before generating: headers_ms applies.
      expect(out.ms).toBeGreaterThanOrEqual(200);
      expect(out.ms).toBeLessThan(700 + 3_000);
    } else {
      // A non-streaming upstream call sends headers only with the whole answer: only total_ms applies.
      expect(out.ms).toBeGreaterThanOrEqual(700);
      expect(out.ms).toBeLessThan(700 + 3_000);
    }
  });

  it('a slow first token inside the first-token window is waited for', async () => {
    const h = await startChat({ kind: 'slow_first_token', delay_ms: 100, text: PRIMARY_TEXT });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/primary', model: 'primary', text: PRIMARY_TEXT, attempts: 1, reason: undefined });
    expect(out.ms).toBeGreaterThanOrEqual(100);
    expect(out.ms).toBeLessThan(3_000);
  });

  it('a first token later than first_token_ms times out within the window', async () => {
    const h = await startChat({ kind: 'slow_first_token', delay_ms: 10_000, text: PRIMARY_TEXT }, { timeouts: { first_token_ms: 250 } });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: 2, reason: 'timeout_first_token' });
    expect(out.ms).toBeGreaterThanOrEqual(250);
    expect(out.ms).toBeLessThan(3_000);
    const record = await h.record(out.headers.get('x-request-id'));
    const first = record.attempts[0];
    expect(first?.headersAt).toBeDefined();
    expect((first?.endedAt ?? 0) - (first?.headersAt ?? 0)).toBeGreaterThanOrEqual(250);
  });

  it('missing [DONE] after finish_reason is a complete answer from the primary', async () => {
    const h = await startChat({ kind: 'missing_done', text: PRIMARY_TEXT });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/primary', model: 'primary', text: PRIMARY_TEXT, attempts: 1, reason: undefined });
    expect(h.sim.callsFor('backup')).toHaveLength(0);
  });

  it('a cut before any content (after_chunks: 0) falls back invisibly', async () => {
    const h = await startChat({ kind: 'cut', after_chunks: 0, text: PRIMARY_TEXT });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    // The response had begun when the connection dropped: a cut, not a connection failure — moved on at once, not retried.
    expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: 2, reason: 'stream_cut' });
    expect(h.sim.callsFor('primary')).toHaveLength(1);
  });
});

describe('failures after content has been produced', () => {
  const afterContent: { name: string; primary: Scenario; reason: string }[] = [
    { name: 'stall after content', primary: { kind: 'stall', after_chunks: 2, text: PRIMARY_TEXT }, reason: 'stream_stalled' },
    { name: 'stream cut after 2 chunks', primary: { kind: 'cut', after_chunks: 2, text: PRIMARY_TEXT }, reason: 'stream_cut' },
    { name: 'malformed chunk after 2 chunks', primary: { kind: 'malformed_chunk', after_chunks: 2, text: PRIMARY_TEXT }, reason: 'stream_cut' },
  ];

  // With continuation off (it is on by default: test/integration/continuation.test.ts covers it).
  const noContinuation = { continuation: { enabled: false } };

  it.each(afterContent)('$name, continuation off: a streaming client gets partial text, then an APIError — never a silent success', async (c) => {
    const h = await startChat(c.primary, noContinuation);
    const out = await chat(h.client, 'stream', { model: 'chat', messages: USER_MESSAGES });
    expectBrokenStream(out, 'sim/primary', PRIMARY_TEXT);
    expect(out.model).toBe('primary');
    expect(out.headers.get('x-understudy-attempts')).toBe('1');
    expect(out.headers.get('x-understudy-fallback-reason')).toBeNull();
    expect(out.chunks.some((chunk) => chunk.choices.some((ch) => ch.finish_reason))).toBe(false);
    expect(String((out.streamError as Error).message)).toContain(c.reason);
    expect(h.sim.callsFor('primary')).toHaveLength(1);
    expect(h.sim.callsFor('backup')).toHaveLength(0);
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.streamError).toBe(c.reason);
    expect(record.attempts[0]?.decision).toEqual({ action: 'stop', rule: 'committed_stream' });
  });

  it.each(afterContent)('$name: invisible to a non-streaming client, which gets the backup’s full answer', async (c) => {
    const h = await startChat(c.primary);
    const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: 2, reason: c.reason });
    expect(h.sim.callsFor('primary')).toHaveLength(1);
  });

  it('a stall after content ends the stream after stall_ms, not later', async () => {
    const h = await startChat({ kind: 'stall', after_chunks: 2, text: PRIMARY_TEXT }, { timeouts: { stall_ms: 250 }, ...noContinuation });
    const out = await chat(h.client, 'stream', { model: 'chat', messages: USER_MESSAGES });
    expectBrokenStream(out, 'sim/primary', PRIMARY_TEXT);
    expect(out.ms).toBeGreaterThanOrEqual(250);
    expect(out.ms).toBeLessThan(3_000);
  });
});

describe('non-streaming client over a provider with stream_upstream: false', () => {
  function startPlain(primary: Scenario): Promise<Harness> {
    return start({
      simulators: { sim: { primary, backup: { kind: 'ok', text: BACKUP_TEXT } } },
      providers: { plain: { simulator: 'sim', stream_upstream: false } },
      routes: { chat: { ladder: [{ targets: 'plain/primary' }, { targets: 'sim/backup' }] } },
    });
  }

  it('ok: served from the plain JSON answer', async () => {
    const h = await startPlain({ kind: 'ok', text: PRIMARY_TEXT });
    const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'plain/primary', model: 'primary', text: PRIMARY_TEXT, attempts: 1, reason: undefined });
    expect(h.sim.callsFor('primary')[0]?.stream).toBe(false);
    expect(h.sim.callsFor('primary')[0]?.body).not.toHaveProperty('stream_options');
  });

  it.each([
    // Half a JSON body, then the socket dies: the target failed mid-answer, a cut (not retried as if nothing was processed).
    { name: 'truncated JSON body (cut)', primary: { kind: 'cut', after_chunks: 0 } as Scenario, primaryCalls: 1, reason: 'stream_cut' },
    { name: 'truncated JSON (malformed)', primary: { kind: 'malformed_chunk', after_chunks: 0 } as Scenario, primaryCalls: 1, reason: 'malformed_response' },
    { name: 'garbage body', primary: { kind: 'garbage' } as Scenario, primaryCalls: 1, reason: 'malformed_response' },
    { name: 'empty content', primary: { kind: 'empty' } as Scenario, primaryCalls: 1, reason: 'empty_output' },
    { name: '503', primary: { kind: 'status', status: 503 } as Scenario, primaryCalls: 2, reason: 'overloaded' },
  ])('$name → next target', async (c) => {
    const h = await startPlain(c.primary);
    const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: c.primaryCalls + 1, reason: c.reason });
    expect(h.sim.callsFor('primary')).toHaveLength(c.primaryCalls);
  });
});

describe('cooldowns expire', () => {
  it.each(MODES)('%s: a 429 without Retry-After cools the target for rate_limit_cooldown_ms, then it is called again', async (mode) => {
    const h = await startChat({ kind: 'rate_limit' }, { policy: { rate_limit_cooldown_ms: 300 } });
    const first = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expect(first.headers.get('x-understudy-served-by')).toBe('sim/backup');
    h.sim.setModel('primary', { kind: 'ok', text: PRIMARY_TEXT });

    const second = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expect(second.headers.get('x-understudy-served-by')).toBe('sim/backup');
    expect(h.sim.callsFor('primary')).toHaveLength(1);

    const served = await pollFor(
      async () => {
        const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
        return out.headers.get('x-understudy-served-by') === 'sim/primary' ? out : undefined;
      },
      3_000,
      'the primary to serve again',
    );
    expect(served.text).toBe(PRIMARY_TEXT);
    // The cooldown starts after the 429 arrived, so the next call comes at least 300 ms after the first.
    const calls = h.sim.callsFor('primary');
    expect(calls).toHaveLength(2);
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(300);
  });
});

describe('concurrency', () => {
  it('30 concurrent requests (mixed stream / non-stream) each fall back correctly, within the retry budget', async () => {
    const h = await startChat({ kind: 'status', status: 500 });
    const outs = await Promise.all(
      Array.from({ length: 30 }, (_, i) => chat(h.client, i % 2 === 0 ? 'stream' : 'non-stream', { model: 'chat', messages: USER_MESSAGES })),
    );
    for (const out of outs) {
      expect(out.status).toBe(200);
      expect(out.headers.get('x-understudy-served-by')).toBe('sim/backup');
      expect(out.text).toBe(BACKUP_TEXT);
      expect(out.headers.get('x-understudy-fallback-reason')).toBe('server_error');
    }
    // The outage did not multiply the load on the failing primary: its circuit opened after a run
    // of failures (later requests skip it at no cost), and retries stayed within the budget's
    // floor of 10 (20% of 30 first attempts is less).
    const primaryCalls = h.sim.callsFor('primary').length;
    expect(primaryCalls).toBeGreaterThanOrEqual(5);
    expect(primaryCalls).toBeLessThanOrEqual(40);
    await pollFor(() => h.records.length === 30, 3_000, '30 request records');
    for (const r of h.records) {
      const first = r.attempts[0];
      expect(first?.target).toBe('sim/primary');
      expect(first?.outcome === 'failed' || first?.skipReason?.startsWith('circuit open')).toBe(true);
    }
    expect(h.records.some((r) => r.attempts.some((a) => a.skipReason?.startsWith('circuit open')))).toBe(true);
    expect(h.sim.callsFor('backup')).toHaveLength(30);
    expect(new Set(h.records.map((r) => r.requestId)).size).toBe(30);
  });
});

describe('secrets', () => {
  it('provider keys never reach the client, even when every target rejects its key', async () => {
    const h = await startChat({ kind: 'auth_error' });
    h.sim.setModel('backup', { kind: 'auth_error' });
    for (const mode of MODES) {
      h.sim.reset();
      const out = await chat(h.client, mode, { model: 'sim/primary', messages: USER_MESSAGES });
      expect(out.error?.status).toBe(503);
      const everything = JSON.stringify({ body: out.error?.error, message: out.error?.message, headers: [...out.headers.entries()] });
      expect(everything).not.toContain('sk-test');
      expect(everything).not.toContain('secret');
    }
    for (const record of h.records) expect(JSON.stringify(record)).not.toContain('sk-test-sim-secret');
  });
});
