import { describe, expect, it } from 'vitest';
import { hashKey } from './key-material.js';
import { keyStatus } from './key-record.js';
import { issueKey, keySpecProblems, parseExpiry } from './key-spec.js';

const NOW = Date.parse('2030-01-01T00:00:00.000Z');
const KNOWN = { routes: ['chat', 'embed'], providers: ['openai', 'local'] };

describe('issuing keys', () => {
  it('builds a record with the hash of the plain key, defaults allowing everything', () => {
    const { plain, record } = issueKey({ name: 'ci' }, NOW);
    expect(record).toEqual({ id: record.id, name: 'ci', hash: hashKey(plain), created_at: '2030-01-01T00:00:00.000Z', routes: ['*'], targets: ['*'], metadata: {} });
    expect(JSON.stringify(record)).not.toContain(plain);
  });

  it('keeps limits, expiry, budget and metadata', () => {
    const { record } = issueKey({ name: 'team', routes: ['chat'], targets: ['openai/*'], rpm: 10, tpm: 1000, expiresAt: NOW + 1000, budget: { amount: 5, period: 'day' }, metadata: { team: 'a' } }, NOW);
    expect(record).toMatchObject({ routes: ['chat'], targets: ['openai/*'], rpm: 10, tpm: 1000, expires_at: '2030-01-01T00:00:01.000Z', budget: { amount: 5, period: 'day' }, metadata: { team: 'a' } });
  });

  it('reports every problem of a spec, by field', () => {
    const problems = keySpecProblems({ name: ' ', routes: ['chat', 'nope'], targets: [], rpm: 0, tpm: 1.5, expiresAt: NOW }, KNOWN, NOW);
    expect(problems.map((p) => p.field)).toEqual(['name', 'routes[1]', 'targets', 'rpm', 'tpm', 'expires']);
    expect(keySpecProblems({ name: 'ok', routes: ['*'], targets: ['local/llama3', 'openai/*'], rpm: 5 }, KNOWN, NOW)).toEqual([]);
  });
});

describe('expiry', () => {
  it('parses durations from now and ISO times, refusing the past', () => {
    expect(parseExpiry('30d', NOW)).toEqual({ ok: true, at: NOW + 30 * 86_400_000 });
    expect(parseExpiry('12h', NOW)).toEqual({ ok: true, at: NOW + 12 * 3_600_000 });
    expect(parseExpiry('90m', NOW)).toEqual({ ok: true, at: NOW + 90 * 60_000 });
    expect(parseExpiry('2w', NOW)).toEqual({ ok: true, at: NOW + 14 * 86_400_000 });
    expect(parseExpiry('2030-02-01T00:00:00Z', NOW)).toEqual({ ok: true, at: Date.parse('2030-02-01T00:00:00Z') });
    expect(parseExpiry('2029-12-31T00:00:00Z', NOW).ok).toBe(false);
    expect(parseExpiry('0d', NOW).ok).toBe(false);
    expect(parseExpiry('soon', NOW)).toMatchObject({ ok: false, problem: expect.stringContaining('neither a duration') });
  });

  it('a key is active until its expiry and expired from then on; revoked wins', () => {
    const { record } = issueKey({ name: 'short', expiresAt: NOW + 60_000 }, NOW);
    expect(keyStatus(record, NOW + 59_999)).toBe('active');
    expect(keyStatus(record, NOW + 60_000)).toBe('expired');
    expect(keyStatus({ ...record, revoked_at: '2030-01-01T00:00:30.000Z' }, NOW)).toBe('revoked');
    expect(keyStatus({ ...record, expires_at: undefined }, NOW + 10 ** 12)).toBe('active');
  });
});
