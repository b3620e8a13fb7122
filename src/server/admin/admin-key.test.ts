import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../config/secret.js';
import { AdminKey, presentedAdminKey } from './admin-key.js';

const KEY = 'adm-0123456789abcdef';

describe('AdminKey', () => {
  it('matches the configured key only, whatever the length of the guess', () => {
    const key = new AdminKey(new Secret(KEY));
    expect(key.matches(KEY)).toBe(true);
    expect(key.matches(undefined)).toBe(false);
    expect(key.matches('')).toBe(false);
    expect(key.matches(KEY.slice(0, -1))).toBe(false); // shorter: compared as equal-length digests, no throw
    expect(key.matches(`${KEY}x`)).toBe(false);
    expect(key.matches(KEY.toUpperCase())).toBe(false);
  });

  it('never prints the key', () => {
    const key = new AdminKey(new Secret(KEY));
    expect(JSON.stringify({ key })).not.toContain(KEY);
    expect(String(key)).not.toContain(KEY);
    expect(inspect(key, { showHidden: true, depth: 5 })).not.toContain(KEY);
  });

  it('reads x-understudy-admin-key first, else Authorization: Bearer', () => {
    expect(presentedAdminKey({ 'x-understudy-admin-key': 'a', authorization: 'Bearer b' })).toBe('a');
    expect(presentedAdminKey({ authorization: 'Bearer b' })).toBe('b');
    expect(presentedAdminKey({ authorization: 'bearer  b' })).toBe('b');
    expect(presentedAdminKey({ authorization: 'Basic b' })).toBeUndefined();
    expect(presentedAdminKey({})).toBeUndefined();
  });
});
