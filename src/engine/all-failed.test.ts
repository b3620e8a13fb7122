import { describe, expect, it } from 'vitest';
import type { FailureKind } from '../canonical/failure.js';
import { allFailedError } from './all-failed.js';
import type { AttemptRecord } from './attempt.js';

const failed = (target: string, kind: FailureKind, status?: number): AttemptRecord => ({
  ordinal: 1,
  target,
  rung: 0,
  reason: 'primary',
  outcome: 'failed',
  startedAt: 0,
  endedAt: 1,
  failure: { kind, message: 'x', ...(status !== undefined ? { status } : {}) },
});

describe('allFailedError', () => {
  it('every target refused a parameter → 400 unsupported_parameter (the request must change)', () => {
    const error = allFailedError('chat', [failed('a/m', 'unsupported_parameter', 400), failed('b/m', 'unsupported_parameter')]);
    expect(error).toMatchObject({ status: 400, code: 'unsupported_parameter', type: 'invalid_request_error' });
    expect(error.message).toContain('a/m: unsupported_parameter (HTTP 400)');
  });

  it('a parameter refused by one target and a server error from another → 503', () => {
    expect(allFailedError('chat', [failed('a/m', 'unsupported_parameter'), failed('b/m', 'server_error', 500)])).toMatchObject({ status: 503, code: 'all_targets_failed' });
  });
});
