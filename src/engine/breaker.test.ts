import { describe, expect, it } from 'vitest';
import { FAILURE_KINDS, type FailureKind } from '../canonical/failure.js';
import { freshBreaker, type BreakerState } from '../state/breaker-state.js';
import { admitStep, breakerConfig, DEFAULT_BREAKER_CONFIG, feedsBreaker, healthProbeSucceededStep, phaseAt, recordStep, releaseStep, type BreakerFeed } from './breaker.js';

const config = breakerConfig();
const T0 = 1_700_000_000_000;

describe('feedsBreaker: which outcomes are the target’s fault', () => {
  const table: Record<FailureKind, BreakerFeed> = {
    rate_limited: 'failure',
    quota_exhausted: 'failure',
    overloaded: 'failure',
    server_error: 'failure',
    connection: 'failure',
    timeout_headers: 'failure',
    timeout_first_token: 'failure',
    stream_stalled: 'failure',
    stream_cut: 'failure',
    malformed_response: 'failure',
    empty_output: 'failure',
    contract_violation: 'ignore',
    context_window: 'ignore',
    content_policy: 'ignore',
    upstream_auth: 'trip',
    model_not_found: 'trip',
    unsupported_parameter: 'ignore',
    invalid_request: 'ignore',
    budget_exceeded: 'ignore',
    deadline_exceeded: 'ignore',
    client_cancelled: 'ignore',
  };

  it.each(FAILURE_KINDS.map((kind) => [kind, table[kind]] as const))('%s → %s', (kind, feed) => {
    expect(feedsBreaker(kind)).toBe(feed);
  });

  it('the table has a row for every FailureKind and nothing else', () => {
    expect(Object.keys(table).sort()).toEqual([...FAILURE_KINDS].sort());
  });
});

describe('breaker steps (pure)', () => {
  it('admitting on a closed breaker changes nothing', () => {
    const state = freshBreaker();
    const step = admitStep(state, T0, config);
    expect(step.next).toBe(state);
    expect(step.result).toEqual({ admitted: true, probe: false, state: 'closed' });
  });

  it('a success on a settled healthy window returns the same object (nothing to write)', () => {
    const state: BreakerState = { phase: 'closed', outcomes: Array.from({ length: 20 }, () => 'ok' as const), consecutiveFailures: 0 };
    expect(recordStep(state, { ok: true }, false, T0, config).next).toBe(state);
  });

  it('keeps at most `window` outcomes, oldest dropped first', () => {
    let state: BreakerState = freshBreaker();
    const small = breakerConfig({ window: 3, minRequests: 3, failureRate: 1, consecutiveFailures: 3 });
    for (const ok of [false, true, true, true]) state = recordStep(state, ok ? { ok } : { ok, kind: 'server_error' }, false, T0, small).next;
    expect(state).toEqual({ phase: 'closed', outcomes: ['ok', 'ok', 'ok'], consecutiveFailures: 0 });
  });

  it('an ignored kind changes nothing, in any phase', () => {
    const closed: BreakerState = { phase: 'closed', outcomes: ['failed'], consecutiveFailures: 1 };
    const open: BreakerState = { phase: 'open', reason: 'failure_rate', kind: 'server_error', openedAt: T0, reopensAt: T0 + 1, cooldownMs: 1 };
    for (const state of [closed, open]) {
      expect(recordStep(state, { ok: false, kind: 'invalid_request' }, false, T0, config).next).toBe(state);
    }
  });

  it('reads an open breaker past its reopensAt as half-open', () => {
    const open: BreakerState = { phase: 'open', reason: 'failure_rate', kind: 'server_error', openedAt: T0, reopensAt: T0 + 10, cooldownMs: 10 };
    expect(phaseAt(open, T0 + 9)).toBe('open');
    expect(phaseAt(open, T0 + 10)).toBe('half_open');
    expect(phaseAt(freshBreaker(), T0)).toBe('closed');
  });

  it('releasing a non-probe changes nothing', () => {
    const half: BreakerState = { phase: 'half_open', reason: 'failure_rate', kind: 'server_error', cooldownMs: 1, probeLeases: [T0], successes: 0 };
    expect(releaseStep(half, false).next).toBe(half);
    expect(releaseStep(half, true).next).toEqual({ ...half, probeLeases: [] });
  });
});

describe('breakerConfig', () => {
  it('fills defaults', () => {
    expect(breakerConfig()).toEqual(DEFAULT_BREAKER_CONFIG);
    expect(DEFAULT_BREAKER_CONFIG).toEqual({
      window: 20,
      minRequests: 5,
      failureRate: 0.5,
      consecutiveFailures: 5,
      cooldownMs: 30_000,
      maxCooldownMs: 300_000,
      halfOpenProbes: 1,
      successThreshold: 2,
      misconfiguredCooldownMs: 300_000,
      probeLeaseMs: 120_000,
    });
  });

  it.each([
    [{ window: 0 }, 'breaker.window'],
    [{ halfOpenProbes: 1.5 }, 'breaker.halfOpenProbes'],
    [{ failureRate: 0 }, 'breaker.failureRate'],
    [{ failureRate: 1.2 }, 'breaker.failureRate'],
    [{ cooldownMs: -1 }, 'breaker.cooldownMs'],
    [{ minRequests: 30 }, 'breaker.minRequests'],
    [{ maxCooldownMs: 1_000 }, 'breaker.maxCooldownMs'],
  ])('rejects %o naming %s', (overrides, key) => {
    expect(() => breakerConfig(overrides)).toThrow(key);
  });
});

describe('healthProbeSucceededStep (pure): an active health probe ends an open period early', () => {
  const open: BreakerState = { phase: 'open', reason: 'consecutive_failures', kind: 'overloaded', openedAt: T0, reopensAt: T0 + 30_000, cooldownMs: 30_000 };

  it('moves the open breaker to half-open with no probe in flight, keeping why it opened', () => {
    const step = healthProbeSucceededStep(open, T0, T0 + 5_000);
    expect(step.next).toEqual({ phase: 'half_open', reason: 'consecutive_failures', kind: 'overloaded', cooldownMs: 30_000, probeLeases: [], successes: 0 });
    expect(step.result).toEqual({ from: 'open', to: 'half_open', at: T0 + 5_000 });
  });

  it('then real requests confirm with the usual probes and success threshold', () => {
    let state = healthProbeSucceededStep(open, T0, T0 + 5_000).next;
    const first = admitStep(state, T0 + 5_001, config);
    expect(first.result).toEqual({ admitted: true, probe: true, state: 'half_open' });
    expect(admitStep(first.next, T0 + 5_001, config).result).toMatchObject({ admitted: false }); // one probe at a time
    state = recordStep(first.next, { ok: true }, true, T0 + 5_002, config).next;
    expect(state).toMatchObject({ phase: 'half_open', successes: 1 }); // successThreshold 2: not closed yet
    state = admitStep(state, T0 + 5_003, config).next;
    const closing = recordStep(state, { ok: true }, true, T0 + 5_004, config);
    expect(closing.next).toEqual(freshBreaker());
    expect(closing.result).toEqual({ from: 'half_open', to: 'closed', at: T0 + 5_004 });
  });

  it('a real probe failing after it reopens the breaker for twice the period, as usual', () => {
    const half = healthProbeSucceededStep(open, T0, T0 + 5_000).next;
    const admitted = admitStep(half, T0 + 5_001, config).next;
    const reopened = recordStep(admitted, { ok: false, kind: 'server_error' }, true, T0 + 5_002, config);
    expect(reopened.next).toMatchObject({ phase: 'open', cooldownMs: 60_000, reopensAt: T0 + 5_002 + 60_000 });
  });

  it('changes nothing when the breaker moved on since the probe was sent', () => {
    const reopened: BreakerState = { ...open, openedAt: T0 + 1_000, reopensAt: T0 + 61_000, cooldownMs: 60_000 };
    const half: BreakerState = { phase: 'half_open', reason: 'failure_rate', kind: 'server_error', cooldownMs: 1, probeLeases: [T0], successes: 0 };
    const closed = freshBreaker();
    for (const state of [reopened, half, closed]) {
      const step = healthProbeSucceededStep(state, T0, T0 + 5_000);
      expect(step.next).toBe(state);
      expect(step.result).toBeUndefined();
    }
  });

  it('changes nothing once the open period is over anyway (the next admit probes)', () => {
    expect(healthProbeSucceededStep(open, T0, T0 + 30_000).next).toBe(open);
  });
});
