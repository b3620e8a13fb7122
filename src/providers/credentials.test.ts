import { describe, expect, it } from 'vitest';
import { UpstreamFailure, type FailureDetails } from '../canonical/failure.js';
import { CredentialHeaders, CredentialPool, DEFAULT_CREDENTIAL_COOLING, credentialCooldownMs, withCredential, type CredentialCooled } from './credentials.js';

const auth: FailureDetails = { kind: 'upstream_auth', status: 401, message: 'bad key' };
const quota: FailureDetails = { kind: 'quota_exhausted', status: 429, message: 'quota' };
const limited = (retryAfterMs?: number): FailureDetails => ({ kind: 'rate_limited', status: 429, message: 'slow down', ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
const overloaded: FailureDetails = { kind: 'overloaded', status: 503, message: 'busy' };

function pool(keys: string[], cooled: CredentialCooled[] = []): { pool: CredentialPool; clock: { t: number } } {
  const clock = { t: 1_000 };
  return { pool: new CredentialPool(keys, { now: () => clock.t, onCooled: (e) => cooled.push(e) }), clock };
}

const picks = (p: CredentialPool, n: number): (string | undefined)[] => Array.from({ length: n }, () => p.pick()?.key);

describe('CredentialPool', () => {
  it('hands out keys round-robin, per pool', () => {
    const { pool: p } = pool(['k1', 'k2', 'k3']);
    expect(picks(p, 7)).toEqual(['k1', 'k2', 'k3', 'k1', 'k2', 'k3', 'k1']);
    expect(pool([]).pool.pick()).toBeUndefined();
    expect(picks(pool(['only']).pool, 2)).toEqual(['only', 'only']);
  });

  it('cools a key for the engine’s durations and skips it while another key is available', () => {
    const cooled: CredentialCooled[] = [];
    const { pool: p, clock } = pool(['k1', 'k2', 'k3'], cooled);
    const first = p.pick();
    expect(first?.key).toBe('k1');
    expect(p.cool(first!, auth)).toBe(true);
    expect(cooled).toEqual([{ index: 0, kind: 'upstream_auth', ms: 5 * 60_000, available: 2 }]);
    expect(picks(p, 4)).toEqual(['k2', 'k3', 'k2', 'k3']);
    clock.t += 5 * 60_000;
    expect(picks(p, 3)).toEqual(['k1', 'k2', 'k3']);
  });

  it('cools only for failures about the key: auth, quota, rate limit (its Retry-After, else 1 s)', () => {
    const c = DEFAULT_CREDENTIAL_COOLING;
    expect(credentialCooldownMs(auth, c)).toBe(300_000);
    expect(credentialCooldownMs(quota, c)).toBe(600_000);
    expect(credentialCooldownMs(limited(), c)).toBe(1_000);
    expect(credentialCooldownMs(limited(7_000), c)).toBe(7_000);
    expect(credentialCooldownMs(overloaded, c)).toBeUndefined();
    expect(credentialCooldownMs({ kind: 'model_not_found', status: 404, message: 'x' }, c)).toBeUndefined();
    const { pool: p } = pool(['k1', 'k2']);
    expect(p.cool(p.pick()!, overloaded)).toBe(false);
    expect(picks(p, 2)).toEqual(['k2', 'k1']);
  });

  it('when every key is cooling: the one whose cooldown ends first, or none for a retry', () => {
    const { pool: p, clock } = pool(['k1', 'k2', 'k3']);
    p.cool(p.pick()!, quota); // k1: 10 min
    p.cool(p.pick()!, limited(2_000)); // k2: 2 s
    p.cool(p.pick()!, auth); // k3: 5 min
    expect(picks(p, 2)).toEqual(['k2', 'k2']);
    expect(p.pick('none')).toBeUndefined();
    clock.t += 2_000;
    expect(p.pick('none')?.key).toBe('k2');
  });

  it('rotation swaps the keys at once; a kept key keeps its cooldown; every key ever held stays scrubbed', () => {
    const { pool: p } = pool(['old', 'kept']);
    const kept = p.pick() && p.pick();
    expect(kept?.key).toBe('kept');
    p.cool(kept!, auth);
    p.replace(['kept', 'new1', 'new2']);
    expect(p.keys()).toEqual(['kept', 'new1', 'new2']);
    expect(p.size).toBe(3);
    expect(picks(p, 3).every((k) => k !== 'kept')).toBe(true);
    expect(p.secrets).toEqual(['old', 'kept', 'new1', 'new2']);
    // A key rotated out is not cooled by a late report, and not handed out again.
    const { pool: q } = pool(['a', 'b']);
    const a = q.pick()!;
    q.replace(['b']);
    expect(q.cool(a, auth)).toBe(false);
    expect(picks(q, 2)).toEqual(['b', 'b']);
  });
});

describe('withCredential', () => {
  const failWith = (details: FailureDetails) => Promise.reject(new UpstreamFailure(details));

  it('retries at once with the next key when the upstream refuses one, and cools the refused key', async () => {
    const { pool: p } = pool(['bad', 'good']);
    const used: (string | undefined)[] = [];
    const out = await withCredential(p, (c) => {
      used.push(c?.key);
      return c?.key === 'bad' ? failWith(auth) : Promise.resolve('served');
    });
    expect(out).toBe('served');
    expect(used).toEqual(['bad', 'good']);
    // The bad key is skipped from now on.
    expect(picks(p, 3)).toEqual(['good', 'good', 'good']);
  });

  it('tries each key at most once, then the last failure reaches the engine', async () => {
    const { pool: p } = pool(['k1', 'k2', 'k3']);
    const used: (string | undefined)[] = [];
    const error = await withCredential(p, (c) => {
      used.push(c?.key);
      return failWith(c?.key === 'k3' ? quota : auth);
    }).catch((e: unknown) => e);
    expect(used).toEqual(['k1', 'k2', 'k3']);
    expect(error).toBeInstanceOf(UpstreamFailure);
    expect((error as UpstreamFailure).kind).toBe('quota_exhausted');
    // Everything is cooling now: a later request makes one call with the soonest-free key, no retry.
    used.length = 0;
    await withCredential(p, (c) => {
      used.push(c?.key);
      return failWith(auth);
    }).catch(() => undefined);
    expect(used).toEqual(['k1']);
  });

  it('does not retry a failure that is not about the key, nor with a pool of one', async () => {
    const { pool: p } = pool(['k1', 'k2']);
    let calls = 0;
    await expect(withCredential(p, () => (calls++, failWith(overloaded)))).rejects.toBeInstanceOf(UpstreamFailure);
    expect(calls).toBe(1);
    const { pool: one } = pool(['k1']);
    calls = 0;
    await expect(withCredential(one, () => (calls++, failWith(auth)))).rejects.toBeInstanceOf(UpstreamFailure);
    expect(calls).toBe(1);
    const { pool: none } = pool([]);
    expect(await withCredential(none, (c) => Promise.resolve(c))).toBeUndefined();
  });
});

describe('CredentialHeaders', () => {
  it('builds each key’s headers once; no key: the base headers', () => {
    const { pool: p } = pool(['k1', 'k2']);
    const headers = new CredentialHeaders({ 'content-type': 'application/json' }, (key) => ({ authorization: `Bearer ${key}` }));
    const k1 = p.pick();
    const first = headers.for(k1);
    expect(first).toEqual({ 'content-type': 'application/json', authorization: 'Bearer k1' });
    expect(headers.for(k1)).toBe(first);
    expect(headers.for(p.pick())).toEqual({ 'content-type': 'application/json', authorization: 'Bearer k2' });
    expect(headers.for(undefined)).toEqual({ 'content-type': 'application/json' });
  });
});
