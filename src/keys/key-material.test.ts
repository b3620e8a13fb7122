import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKey, hashesEqual, hashKey, KEY_BODY_LENGTH, KEY_PREFIX, looksLikeKey, newKeyId } from './key-material.js';

describe('key material', () => {
  it('generates usk_ keys of 43 base62 characters (≈256 bits), all different', () => {
    const keys = Array.from({ length: 200 }, () => generateKey());
    for (const key of keys) expect(key).toMatch(/^usk_[0-9A-Za-z]{43}$/);
    expect(new Set(keys).size).toBe(keys.length);
    expect(KEY_BODY_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(256);
  });

  it('draws every base62 character about equally often (no modulo bias worth the name)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) for (const c of generateKey().slice(KEY_PREFIX.length)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    const expected = (400 * 43) / 62;
    for (const n of counts.values()) expect(Math.abs(n - expected)).toBeLessThan(expected * 0.4);
  });

  it('makes short public ids', () => {
    const id = newKeyId();
    expect(id).toMatch(/^key_[a-z2-7]{12}$/);
    expect(newKeyId()).not.toBe(id);
  });

  it('hashes with SHA-256, tagged, and never returns the key itself', () => {
    const key = generateKey();
    const hash = hashKey(key);
    expect(hash).toBe(`sha256:${createHash('sha256').update(key).digest('hex')}`);
    expect(hash).not.toContain(key.slice(KEY_PREFIX.length));
    expect(hashKey(key)).toBe(hash);
    expect(hashKey(`${key}x`)).not.toBe(hash);
  });

  it('compares hashes without throwing on different lengths', () => {
    const hash = hashKey('usk_a');
    expect(hashesEqual(hash, hashKey('usk_a'))).toBe(true);
    expect(hashesEqual(hash, hashKey('usk_b'))).toBe(false);
    expect(hashesEqual(hash, hash.slice(0, -1))).toBe(false);
    expect(hashesEqual(hash, '')).toBe(false);
  });

  it('recognises what could be a key before any lookup', () => {
    expect(looksLikeKey(generateKey())).toBe(true);
    expect(looksLikeKey('sk-openai-key')).toBe(false);
    expect(looksLikeKey(`usk_${'a'.repeat(300)}`)).toBe(false);
  });
});
