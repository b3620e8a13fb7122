import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every virtual key starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const KEY_PREFIX = 'usk_';
/** Characters after the prefix: base62, 43 of them ≈ 256 bits from crypto.randomBytes. */
export const KEY_BODY_LENGTH = 43;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
/** The largest multiple of 62 below 256: bytes at or above it are drawn again, so every character is equally likely. */
const UNBIASED_LIMIT = 248;

/** A new plain key: `usk_` + 43 base62 characters of crypto randomness. Shown once, never stored. */
export function generateKey(): string {
  let body = '';
  while (body.length < KEY_BODY_LENGTH) {
    for (const byte of randomBytes(64)) {
      if (byte >= UNBIASED_LIMIT) continue;
      body += BASE62[byte % 62];
      if (body.length === KEY_BODY_LENGTH) break;
    }
  }
  return `${KEY_PREFIX}${body}`;
}

/** A new public key id: `key_` + 12 base32 characters (60 bits; a clash is refused by the store). */
export function newKeyId(): string {
  let id = '';
  for (const byte of randomBytes(12)) id += BASE32[byte % 32];
  return `key_${id}`;
}

/**
 * What is stored instead of the key: `sha256:<hex>`. A plain SHA-256 is enough here: the key has
 * 256 bits of entropy, so there is nothing for a slow hash to protect against guessing.
 */
export function hashKey(plain: string): string {
  return `sha256:${createHash('sha256').update(plain, 'utf8').digest('hex')}`;
}

/** Two stored hashes compared in constant time (different lengths are simply unequal). */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether a presented string could be a virtual key at all (cheap rejection before any lookup). */
export function looksLikeKey(presented: string): boolean {
  return presented.startsWith(KEY_PREFIX) && presented.length <= 256;
}
