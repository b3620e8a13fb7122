import { describe, expect, it } from 'vitest';
import { Secret } from '../config/secret.js';
import { AdminKey } from './admin/admin-key.js';
import { faultFromHeaders, type FaultHeaderDeps } from './fault-header.js';

const KEY = 'adm-0123456789abcdef';
const deps: FaultHeaderDeps = { key: new AdminKey(new Secret(KEY)), checkTarget: (id) => (id === 'p/a' ? undefined : `'${id}' is unknown`) };

describe('faultFromHeaders', () => {
  it('carries no fault when neither header is present, with or without an admin key', () => {
    expect(faultFromHeaders({}, undefined)).toEqual({ ok: true, fault: undefined });
    expect(faultFromHeaders({ 'x-understudy-admin-key': KEY }, deps)).toEqual({ ok: true, fault: undefined });
  });

  it('refuses a fault header with 403 without a configured key, or without the right one', () => {
    const fault = '{"kind":"reset"}';
    for (const [headers, d] of [
      [{ 'x-understudy-fault': fault, 'x-understudy-admin-key': KEY }, undefined],
      [{ 'x-understudy-fault': fault, 'x-understudy-admin-key': KEY }, { ...deps, key: undefined }],
      [{ 'x-understudy-fault': fault }, deps],
      [{ 'x-understudy-fault': fault, 'x-understudy-admin-key': 'wrong' }, deps],
      [{ 'x-understudy-fault-target': 'p/a', authorization: `Bearer ${KEY}` }, deps],
    ] as const) {
      const result = faultFromHeaders(headers, d);
      expect(result.ok ? 'accepted' : [result.error.status, result.error.code]).toEqual([403, 'fault_injection_forbidden']);
    }
  });

  it('parses the fault in the config shape, and checks the target', () => {
    const ok = faultFromHeaders({ 'x-understudy-admin-key': KEY, 'x-understudy-fault': '{"kind":"status","status":429,"retry_after_ms":50}', 'x-understudy-fault-target': 'p/a' }, deps);
    expect(ok.ok && { fault: ok.fault?.fault, target: ok.fault?.target }).toEqual({ fault: { kind: 'status', status: 429, retryAfterMs: 50 }, target: 'p/a' });
    const bad = (headers: Record<string, string>): string | null => {
      const result = faultFromHeaders({ 'x-understudy-admin-key': KEY, ...headers }, deps);
      return result.ok ? 'accepted' : result.error.code;
    };
    expect(bad({ 'x-understudy-fault': 'not json' })).toBe('invalid_fault_header');
    expect(bad({ 'x-understudy-fault': '{"kind":"status","status":200}' })).toBe('invalid_fault_header');
    expect(bad({ 'x-understudy-fault': '{"kind":"reset","extra":1}' })).toBe('invalid_fault_header');
    expect(bad({ 'x-understudy-fault': '{"kind":"reset"}', 'x-understudy-fault-target': 'p/zzz' })).toBe('invalid_fault_header');
    expect(bad({ 'x-understudy-fault-target': 'p/a' })).toBe('invalid_fault_header');
  });
});
