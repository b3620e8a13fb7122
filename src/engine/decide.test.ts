import { describe, expect, it } from 'vitest';
import { FAILURE_KINDS, type FailureDetails, type FailureKind } from '../canonical/failure.js';
import { decide, type DecideInput } from './decide.js';
import { DEFAULT_POLICY, type Policy } from './route.js';

function input(kind: FailureKind, over: Partial<Omit<DecideInput, 'failure'>> & { failure?: Partial<FailureDetails> } = {}): DecideInput {
  const { failure, ...rest } = over;
  return {
    failure: { kind, message: kind, ...failure },
    retriesUsed: 0,
    retriesAllowed: 1,
    rung: 0,
    remainingMs: 60_000,
    committed: false,
    random: 0.5,
    ...rest,
  };
}

const policy: Policy = { ...DEFAULT_POLICY, maxRetryWaitMs: 2_000, backoffBaseMs: 200, backoffMaxMs: 1_000 };

describe('decide: the default policy table', () => {
  const table: [string, DecideInput, { action: string; rule: string; delayMs?: number; cooldownMs?: number; match?: string }][] = [
    ['429 short Retry-After → wait and retry same', input('rate_limited', { failure: { retryAfterMs: 500 } }), { action: 'retry_same', rule: 'rate_limited_short_wait', delayMs: 500 }],
    ['429 long Retry-After → cool exactly that long, next', input('rate_limited', { failure: { retryAfterMs: 30_000 } }), { action: 'next_target', rule: 'rate_limited_long_wait', cooldownMs: 30_000 }],
    ['429 short Retry-After but no retries left → cool, next', input('rate_limited', { retriesUsed: 1, failure: { retryAfterMs: 500 } }), { action: 'next_target', rule: 'rate_limited_long_wait', cooldownMs: 500 }],
    ['429 Retry-After beyond the deadline → next', input('rate_limited', { remainingMs: 400, failure: { retryAfterMs: 500 } }), { action: 'next_target', rule: 'rate_limited_long_wait', cooldownMs: 500 }],
    ['429 without Retry-After → short cooldown, next', input('rate_limited'), { action: 'next_target', rule: 'rate_limited_no_retry_after', cooldownMs: DEFAULT_POLICY.rateLimitCooldownMs }],
    ['insufficient_quota → cool for long, next', input('quota_exhausted'), { action: 'next_target', rule: 'quota_exhausted', cooldownMs: DEFAULT_POLICY.quotaCooldownMs }],
    ['5xx → retry same with backoff', input('server_error'), { action: 'retry_same', rule: 'transient_retry', delayMs: 150 }],
    ['529 → retry same with backoff', input('overloaded'), { action: 'retry_same', rule: 'transient_retry', delayMs: 150 }],
    ['5xx with its own Retry-After → that wait', input('server_error', { failure: { retryAfterMs: 300 } }), { action: 'retry_same', rule: 'transient_retry', delayMs: 300 }],
    ['5xx, retries used up → next', input('server_error', { retriesUsed: 1 }), { action: 'next_target', rule: 'transient_exhausted' }],
    ['5xx with retries: 0 → next', input('overloaded', { retriesAllowed: 0 }), { action: 'next_target', rule: 'transient_exhausted' }],
    ['5xx, backoff past the deadline → next', input('server_error', { remainingMs: 100 }), { action: 'next_target', rule: 'transient_exhausted' }],
    ['connection → retry at once', input('connection'), { action: 'retry_same', rule: 'connection_retry', delayMs: 0 }],
    ['connection, retries used → next', input('connection', { retriesUsed: 1 }), { action: 'next_target', rule: 'connection_exhausted' }],
    ['headers timeout → next, no re-wait', input('timeout_headers'), { action: 'next_target', rule: 'silent_target' }],
    ['first-token timeout → next, no re-wait', input('timeout_first_token'), { action: 'next_target', rule: 'silent_target' }],
    ['stall before output → next', input('stream_stalled'), { action: 'next_target', rule: 'stream_failed_before_output' }],
    ['cut before output → next', input('stream_cut'), { action: 'next_target', rule: 'stream_failed_before_output' }],
    ['malformed → next', input('malformed_response'), { action: 'next_target', rule: 'bad_output' }],
    ['empty → next', input('empty_output'), { action: 'next_target', rule: 'bad_output' }],
    ['contract violation → next', input('contract_violation'), { action: 'next_target', rule: 'bad_output' }],
    ['context window → another model, never the same', input('context_window'), { action: 'skip_to', match: 'other_model', rule: 'context_window' }],
    ['content policy → stop', input('content_policy'), { action: 'stop', rule: 'content_policy' }],
    ['auth → next, cool for long', input('upstream_auth'), { action: 'next_target', rule: 'misconfigured_target', cooldownMs: DEFAULT_POLICY.misconfiguredCooldownMs }],
    ['model not found → next, cool for long', input('model_not_found'), { action: 'next_target', rule: 'misconfigured_target', cooldownMs: DEFAULT_POLICY.misconfiguredCooldownMs }],
    ['unsupported parameter → next', input('unsupported_parameter'), { action: 'next_target', rule: 'unsupported_parameter' }],
    ['invalid request → stop', input('invalid_request'), { action: 'stop', rule: 'invalid_request' }],
    ['budget exceeded → degrade', input('budget_exceeded'), { action: 'degrade', rule: 'budget_exceeded' }],
    ['deadline → degrade', input('deadline_exceeded'), { action: 'degrade', rule: 'deadline_exceeded' }],
    ['client cancelled → stop', input('client_cancelled'), { action: 'stop', rule: 'client_cancelled' }],
  ];

  it.each(table)('%s', (_name, given, expected) => {
    expect(decide(given, policy)).toEqual(expected);
  });

  it('has a row for every FailureKind (no wildcard)', () => {
    const covered = new Set(table.map(([, given]) => given.failure.kind));
    expect([...FAILURE_KINDS].filter((k) => !covered.has(k))).toEqual([]);
  });

  it('after output was sent, every failure stops (the stream ends with an error, never a silent switch)', () => {
    for (const kind of FAILURE_KINDS) {
      const decision = decide(input(kind, { committed: true }), policy);
      expect(decision.action, kind).toBe('stop');
    }
  });

  it('after output was sent, a continuable stream is continued elsewhere only for failures that are the target\'s', () => {
    const continued = FAILURE_KINDS.filter((kind) => decide(input(kind, { committed: true, continuable: true }), policy).action === 'continue');
    expect(continued.sort()).toEqual(['connection', 'malformed_response', 'overloaded', 'rate_limited', 'server_error', 'stream_cut', 'stream_stalled']);
    // Never continued: the contract refused the answer, the safety system stopped it, time ran out, the client left.
    for (const kind of ['contract_violation', 'content_policy', 'deadline_exceeded', 'client_cancelled', 'invalid_request'] as const) {
      expect(decide(input(kind, { committed: true, continuable: true }), policy).action, kind).not.toBe('continue');
    }
    expect(decide(input('stream_cut', { committed: true, continuable: true }), policy)).toEqual({ action: 'continue', rule: 'midstream_continuation' });
    // Not continuable (tools, JSON, a route that turned it off): the stream ends with an error.
    expect(decide(input('stream_cut', { committed: true, continuable: false }), policy)).toEqual({ action: 'stop', rule: 'committed_stream' });
  });

  it('over the retry budget, every retry becomes a move to the next target (a rate limit still cools)', () => {
    expect(decide(input('server_error', { retryBudgetExhausted: true }), policy)).toEqual({ action: 'next_target', rule: 'retry_budget_exhausted' });
    expect(decide(input('connection', { retryBudgetExhausted: true }), policy)).toEqual({ action: 'next_target', rule: 'retry_budget_exhausted' });
    expect(decide(input('rate_limited', { retryBudgetExhausted: true, failure: { retryAfterMs: 500 } }), policy)).toEqual({
      action: 'next_target',
      cooldownMs: 500,
      rule: 'retry_budget_exhausted',
    });
    // Decisions that were not retries are untouched.
    expect(decide(input('timeout_first_token', { retryBudgetExhausted: true }), policy)).toEqual({ action: 'next_target', rule: 'silent_target' });
    expect(decide(input('invalid_request', { retryBudgetExhausted: true }), policy)).toEqual({ action: 'stop', rule: 'invalid_request' });
  });

  it('a contract violation skips to the route\'s designated stronger rung, never back or in place', () => {
    const strong: Policy = { ...policy, contractViolationRung: 2 };
    const rows: [DecideInput, Policy, object][] = [
      [input('contract_violation', { rung: 0 }), strong, { action: 'skip_to', match: 'rung', rung: 2, rule: 'contract_violation_to' }],
      [input('contract_violation', { rung: 1 }), strong, { action: 'skip_to', match: 'rung', rung: 2, rule: 'contract_violation_to' }],
      // Already on (or past) the designated rung: the ordinary next target.
      [input('contract_violation', { rung: 2 }), strong, { action: 'next_target', rule: 'bad_output' }],
      [input('contract_violation', { rung: 3 }), strong, { action: 'next_target', rule: 'bad_output' }],
      // Only contract violations are routed there.
      [input('malformed_response', { rung: 0 }), strong, { action: 'next_target', rule: 'bad_output' }],
      [input('empty_output', { rung: 0 }), strong, { action: 'next_target', rule: 'bad_output' }],
      // After output reached the client, nothing can take over.
      [input('contract_violation', { rung: 0, committed: true }), strong, { action: 'stop', rule: 'committed_stream' }],
    ];
    for (const [given, p, expected] of rows) expect(decide(given, p)).toEqual(expected);
  });

  it('content policy falls back only when the route opts in', () => {
    expect(decide(input('content_policy'), { ...policy, fallbackOnContentPolicy: true })).toEqual({ action: 'next_target', rule: 'content_policy_opt_in' });
  });

  it('is pure: the same input gives the same decision', () => {
    const given = input('server_error', { random: 0.123 });
    expect(decide(given, policy)).toEqual(decide(given, policy));
  });

  it('jitter comes from the supplied random number and stays within [ceiling/2, ceiling]', () => {
    expect(decide(input('server_error', { random: 0 }), policy)).toMatchObject({ delayMs: 100 });
    expect(decide(input('server_error', { random: 0.999999 }), policy)).toMatchObject({ delayMs: 200 });
    const second = decide(input('server_error', { random: 0.999999, retriesUsed: 1, retriesAllowed: 3 }), policy);
    expect(second).toMatchObject({ action: 'retry_same', delayMs: 400 });
  });
});
